"""Backend choice, seeding, thread settings and device detection.

Call :func:`configure` before importing Keras anywhere else in the process: backend and thread
counts can only be set before the backend initialises. Everything here is backend-agnostic:
TensorFlow (the default), JAX and PyTorch are all handled.
"""
from __future__ import annotations

import importlib.util
import os
import random
from dataclasses import dataclass

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_BACKEND = "tensorflow"  # Keras' own default; the GPU machines use jax or torch
COMPILE_CACHE_BYTES = 2 << 30  # JAX's compile cache drops its least recently used beyond this


def backend_name() -> str:
    """The backend Keras will use: ``$KERAS_BACKEND`` if set, else TensorFlow."""
    name = os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND)
    if name not in BACKENDS:
        raise ValueError(
            f"KERAS_BACKEND={name!r} is not supported: expected one of {', '.join(BACKENDS)}; "
            "unset it to use TensorFlow."
        )
    return name


def configure(*, backend: str | None = None, threads: int | None = None, quiet: bool = True,
              compile_cache: str = "") -> str:
    """Set the backend and CPU thread counts for this process, before Keras is imported.

    ``threads`` fixes the CPU thread pools (None leaves the library defaults); one thread per
    process makes PyTorch runs reproducible across machines and keeps parallel workers from
    fighting over cores. ``compile_cache`` (JAX only) is a folder where XLA's compiled programs
    are kept, every one of them, so a model compiled before loads instead. Returns the backend
    name.
    """
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    name = backend_name()
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ start-up chatter
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # share a GPU between workers
    if compile_cache and name == "jax":  # JAX's own variables, read when it is imported
        os.environ["JAX_COMPILATION_CACHE_DIR"] = compile_cache
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # a fit compiles many
        if importlib.util.find_spec("filelock"):  # a size cap, and with it a lock per entry
            os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] = str(COMPILE_CACHE_BYTES)
    if threads is not None:
        os.environ.update(thread_env(threads, os.environ, xla=name == "jax"))
        if name == "torch":
            import torch

            torch.set_num_threads(threads)
            try:
                torch.set_num_interop_threads(threads)
            except RuntimeError:  # already set once in this process
                pass
    return name


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def thread_env(threads: int, env, *, xla: bool = True) -> dict[str, str]:
    """The variables that size a new process's CPU thread pools to ``threads``: OpenMP, MKL,
    OpenBLAS and TensorFlow, and (``xla``) JAX's XLA flags added to ``env``'s own, unless they
    already set its parallelism."""
    out = {var: str(threads) for var in THREAD_VARS}
    flags = env.get("XLA_FLAGS", "")
    if xla and "intra_op_parallelism" not in flags:
        out["XLA_FLAGS"] = (f"{flags} --xla_cpu_multi_thread_eigen=false "
                            f"intra_op_parallelism_threads={threads}").strip()
    return out


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so that reruns are bit-identical.

    On TensorFlow this also turns on op determinism. Call it right before building a model.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    if name == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import keras

    keras.utils.set_random_seed(seed)


@dataclass(frozen=True)
class Device:
    """What the backend computes on."""

    backend: str
    kind: str  # "gpu" or "cpu"
    name: str

    def __str__(self) -> str:
        return f"{self.kind.upper()} ({self.name}) via {self.backend}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


def detect_device() -> Device:
    """The device Keras will train on: the first visible GPU, else the CPU."""
    name = backend_name()
    if name == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if gpus:
            return Device(name, "gpu", getattr(gpus[0], "device_kind", str(gpus[0])))
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            return Device(name, "gpu", torch.cuda.get_device_name(0))
    else:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return Device(name, "gpu", details.get("device_name", gpus[0].name))
    return Device(name, "cpu", _cpu_name())


def gpu_count() -> int:
    """How many GPUs the backend sees (0 on a CPU-only machine). Imports the backend."""
    name = backend_name()
    if name == "jax":
        import jax

        return sum(d.platform == "gpu" for d in jax.devices())
    if name == "torch":
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))
