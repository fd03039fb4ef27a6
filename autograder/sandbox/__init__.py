"""Running untrusted notebook code: which cells (``cells``), how isolated (``isolation``), the
parent side (``runner``) and what runs inside (``child``)."""
