"""The autograder: specs, sandbox, trusted trainer, scoring, nbgrader integration and CLI.

Stages, in order: ``sandbox`` runs student code and exports model configs as JSON; ``trainer``
rebuilds and trains them in processes that never import student code; ``checks`` turns the
results into points; ``nbgrader_bridge`` records them in the gradebook and feedback.
"""
