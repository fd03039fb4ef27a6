"""The trusted side: everything that decides a grade from what the sandbox exported, in
processes that never import student code.

- ``trainer``: one task of one submission as a typed :class:`~.trainer.Job` (plain JSON on the
  wire), run by a warm ``worker`` process;
- ``trainer_pool``: what grading asks of a pool; ``pool`` (local trainer processes, sized to the
  machine's GPUs and cores with ``gpu_share``) and ``dask_pool`` (the same trainers on a Dask
  cluster) implement it;
- ``allowlist``, ``cost``, ``rebuild``: what an exported model config may contain, what it costs,
  and rebuilding it safely;
- ``kinds``: how each task kind trains and scores (classifier, values, gan); ``challenges``: the
  inputs and scoring of values tasks (hidden from the sandbox).
"""
