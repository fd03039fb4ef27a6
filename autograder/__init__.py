"""The autograder: specs, sandbox, task kinds, trusted trainer, scoring, nbgrader integration, CLI.

Per submission, in order: ``sandbox`` runs student code and exports data (model configs, values
returned on grading-time inputs), parsed as hostile JSON; ``kinds`` says per task what the
trusted workers (``pool``, ``worker``, ``trainer``) do with it without importing student code;
``checks`` turns the results into points; ``grading`` records them in nbgrader's gradebook as
soon as they are known; ``workspace`` drives nbgrader's release, feedback and export.
"""
