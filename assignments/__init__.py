"""nbgrader assignment sources, one folder per assignment (text; see
autograder.gradebook.notebooks)."""
