"""nbgrader assignment sources, one folder per assignment (text; see autograder.notebooks)."""
