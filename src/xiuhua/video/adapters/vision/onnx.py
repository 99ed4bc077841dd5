"""ONNX Runtime sessions: the GPU when one is present, the CPU otherwise; models are local files only."""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

import onnxruntime as ort

from xiuhua.video.adapters.vision.base import ModelError

# Hubs some model packages consult are switched off: weights ship inside the package or the repository.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

GPU_PROVIDERS = ("CUDAExecutionProvider",)


def providers(device: str = "auto") -> list[str]:
    """Providers for 'auto' (CUDA when available), 'cpu' or 'cuda'; raises ModelError for 'cuda' without a GPU."""
    available = ort.get_available_providers()
    gpu = [p for p in GPU_PROVIDERS if p in available]
    if device == "cuda" and not gpu:
        raise ModelError("vision.no_gpu", "未找到可用的 GPU（CUDA）", available=available)
    return ([*gpu, "CPUExecutionProvider"]) if device in ("auto", "cuda") else ["CPUExecutionProvider"]


def packaged_model(name: str) -> Path:
    """The path of a model file shipped under xiuhua/data/models."""
    with as_file(files("xiuhua").joinpath("data", "models", name)) as path:
        return Path(path)


@cache
def session(path: str, device: str = "auto", threads: int = 1) -> ort.InferenceSession:
    """A cached inference session; `threads` CPU threads per operator (1 = one core); raises ModelError."""
    if not Path(path).is_file():
        raise ModelError("vision.model_missing", f"找不到模型文件 {path}", path=path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(path, sess_options=options, providers=providers(device))
    except Exception as exc:  # onnxruntime raises its own untyped errors for corrupt or unsupported models
        raise ModelError("vision.model_invalid", f"无法加载模型 {path}：{exc}", path=path) from exc
