"""What a trusted worker reports for one task: plain JSON both ways."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ModelInfo:
    """One exported model as the trusted side rebuilt it (or why it could not)."""

    built: bool = False
    error: str | None = None
    params: int = 0
    output_shape: list | None = None
    compiled: bool = False
    compile_error: str | None = None  # compiled, but the grader could not restore the settings


@dataclass
class TaskResult:
    task: str
    kind: str
    models: dict = field(default_factory=dict)  # function -> ModelInfo
    ok: bool = False  # the task's metrics were measured
    error: str | None = None  # why not
    metrics: dict = field(default_factory=dict)  # name -> float
    summary: str = ""  # how it was measured ("after 40 epochs"), shown beside each metric
    message: str = ""  # the kind's own explanation (values: which case failed and why)
    summaries: dict = field(default_factory=dict)  # metric -> its own summary, where it differs
    messages: dict = field(default_factory=dict)  # metric -> its own explanation
    history: dict = field(default_factory=dict)  # per-epoch or per-step curves
    extra: dict = field(default_factory=dict)  # picture data: confusion, samples, weights
    timings: dict = field(default_factory=dict)
    device: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "TaskResult":
        raw = dict(raw)
        raw["models"] = {k: ModelInfo(**v) for k, v in raw.get("models", {}).items()}
        return cls(**raw)

    @classmethod
    def failure(cls, task: str, kind: str, error: str, device: str = "") -> "TaskResult":
        return cls(task, kind, error=error, device=device)
