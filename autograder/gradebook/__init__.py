"""The nbgrader side: the course directory in nbgrader's layout (``workspace``: release,
autograde, feedback, export), assignment sources made into nbgrader notebooks (``notebooks``,
with each notebook's rules section from ``rules``), and the preprocessor that writes grading
results into nbgrader's gradebook (``fill_grades``, reading ``results``)."""
