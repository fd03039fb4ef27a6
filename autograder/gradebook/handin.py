"""The "How grading trains, and previewing it" section of every assignment notebook, written at
release time from the spec: the budget each graded model gets, and the ``course preview`` command
that runs the same grading before hand-in (``# %% [handin]`` in an assignment source;
:mod:`autograder.gradebook.notebooks`). Students read the grader's own numbers, so a new budget
in a spec is a new sentence in the notebook."""
from __future__ import annotations

HEADING = "### How grading trains your models, and how to preview it"


def _budget(task) -> str:
    """One bullet: what the grader does with ``task``'s function."""
    budget = task.budget
    names = " and ".join(f"`{fn}`" for fn in task.functions)
    limit = (f", never longer than {budget['max_seconds']:g} seconds"
             if budget.get("max_seconds") else "")
    # the batch as the spec sets it (every spec does; the default lives in course.training)
    batches = f" of batches of {budget['batch_size']}" if "batch_size" in budget else ""
    if task.kind == "values":
        return (f"- {names}: called on inputs drawn at grading time, not the ones in this "
                "notebook; its section below says how the results are scored;")
    if task.kind == "gan":
        return (f"- {names}: trained together by the course's GAN trainer on the digits your "
                f"notebook loads, for **{budget['steps']} steps**{batches}{limit}, then scored "
                "on the generator's samples;")
    stop = (f", stopping once validation accuracy has not improved for {budget['patience']} "
            "epochs and keeping the best epoch's weights" if budget.get("patience") else "")
    return (f"- {names}: trained on a fresh draw of data (a seed only the grader knows: the "
            f"same distribution as yours, examples you have not seen) for "
            f"{'up to ' if stop else ''}**{budget['epochs']} epochs**{batches}{stop}"
            f"{limit}, then scored on held-out examples drawn the same way;")


def markdown(spec) -> str:
    """The section for ``spec``'s notebook (markdown)."""
    return "\n".join([
        HEADING,
        "The short runs under \"Try it\" are quick looks, not the grade. When your notebook is "
        "graded, a trusted process rebuilds each of your models from its configuration and "
        "trains it from scratch with a fixed seed:",
        "",
        *[_budget(task) for task in spec.tasks.values()],
        "",
        "Before you hand in, run that grading yourself, from a terminal in the folder of your "
        "notebook (save it first):",
        "",
        "```",
        f"course preview {spec.notebook}.ipynb",
        "```",
        "",
        "It runs your notebook in the grader's sandbox, trains what the grader trains with the "
        "same budget on the split your notebook loads, and prints every check with its points "
        "and its reason. It takes as long as grading does: minutes, not seconds. The grade "
        "itself is measured on the fresh draw, so it may differ from the preview by a little.",
    ])
