"""Running untrusted notebook code: which cells (``cells``), how isolated (``isolation``,
``jail``), the parent side (``runner``), what runs inside (``child``) and the warm start
(``zygote``, the template process, and ``forkserver``, its grader side)."""
