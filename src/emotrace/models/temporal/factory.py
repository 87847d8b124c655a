"""`create_temporal`: a temporal spec (parsed by `TemporalSpec.parse`, the grammar the config check reads too) to
the stage that runs it, on ONNX Runtime where the weights ship an export, else PyTorch."""

from __future__ import annotations

from pathlib import Path

from emotrace.errors import EmotraceError
from emotrace.models.manifest import default_model, weight_record
from emotrace.models.temporal.causal import RnnTemporal
from emotrace.models.temporal.filters import LOOKAHEAD, EmaTemporal, HmmTemporal, LookaheadTemporal
from emotrace.models.temporal.offline import OfflineRnnTemporal, offline_model
from emotrace.models.temporal.spec import TemporalSpec
from emotrace.models.temporal.stage import TemporalStage


def _on_runtime(weights: str, runtime: str) -> bool:
    """Whether `weights` run on ONNX Runtime: where the runtime allows it, ONNX Runtime imports and the weights are
    shipped with an export (so the ONNX pipeline never imports torch); else PyTorch (also for run folders). The
    ONNX steps run one thread each: a step is a few small matrix products."""
    if runtime != "torch" and not Path(weights).expanduser().exists() and weight_record(weights).onnx_file:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True
    return False


def create_temporal(name: str = "auto", frame_model: str | None = None, offline: bool = False,
                    runtime: str = "auto") -> TemporalStage:
    """`auto`: the shipped default temporal model trained on `frame_model`'s embeddings where one exists, else EMA
    smoothing (and the output says so); with `offline` (files) the shipped look-ahead model for that frame model
    where there is one. `NAME+lookahead` adds fixed-lag HMM decoding to any causal stage. A named temporal model
    must match the frame model it reads. A shipped model runs on ONNX Runtime unless `runtime` is torch (so the
    ONNX pipeline never imports torch for it)."""
    spec = TemporalSpec.parse(name)
    if spec.lookahead:
        return LookaheadTemporal(_stage(spec, frame_model, runtime), **LOOKAHEAD)
    if offline and spec.kind == "auto":
        found = offline_model(frame_model)
        if found:
            return _model(found, frame_model, runtime)
    return _stage(spec, frame_model, runtime)


def _stage(spec: TemporalSpec, frame_model: str | None, runtime: str) -> TemporalStage:
    """The stage of `spec` without its +lookahead (`auto`: the causal default)."""
    if spec.kind == "auto":
        default = default_model("temporal", frame_model)
        return _model(default, frame_model, runtime) if default else EmaTemporal()
    if spec.kind == "ema":
        return EmaTemporal() if spec.value is None else EmaTemporal(tau_s=spec.value)
    if spec.kind == "hmm":
        return HmmTemporal() if spec.value is None else HmmTemporal(switch_rate=spec.value)
    return _model(spec.ref, frame_model, runtime)


def _model(name: str, frame_model: str | None, runtime: str) -> TemporalStage:
    """A trained temporal model by shipped name or run folder, checked against the frame model it reads; causal or
    look-ahead as the model states (a shipped record's contract, a run's loaded model)."""
    loaded = None
    if Path(name).expanduser().exists():  # a training run folder or checkpoint, used before (or without) shipping
        from emotrace.models.checkpoint import load_model

        loaded = load_model(name)
        if loaded.task == "classify" and loaded.contract.kind == "features":  # seed 4's RNN over CNN embeddings
            return _window_model(loaded, name, frame_model)
        temporal, reads, what = loaded.task == "temporal", loaded.frame_model, f"trained by task {loaded.task!r}"
        looks_ahead = bool(getattr(loaded.model, "offline", False))  # what the model's class states
        contract = loaded.contract
    else:
        rec = weight_record(name)
        temporal, reads, what = rec.role == "temporal", rec.frame_model, f"its role is {rec.role!r}"
        looks_ahead = rec.contract.offline  # the same fact, carried by the record's contract
        contract = rec.contract
    if not temporal:
        raise EmotraceError(f"{name!r} is not a temporal model ({what})")
    if contract.extra.get("signals"):
        raise EmotraceError(f"temporal model {name} reads face signals beside the embedding, which the pipeline "
                            f"does not feed a temporal model (measured, not shipped: docs/signals.md)")
    if frame_model is not None and reads != frame_model:
        raise EmotraceError(f"temporal model {name} reads {reads} embeddings, "
                            f"not {frame_model}'s; pick that frame model or --temporal ema")
    stage = OfflineRnnTemporal if looks_ahead else RnnTemporal
    return stage.from_loaded(loaded, name) if loaded is not None else stage.load(name, onnx=_on_runtime(name, runtime))


def _window_model(loaded: object, name: str, frame_model: str | None) -> TemporalStage:
    """Seed 4's RNN (a classify run over windows of a frame model's embeddings), behind the CNN it was trained on."""
    from emotrace.models.temporal.window import WindowRnnTemporal

    reads = str(getattr(loaded, "config", {}).get("features_from", ""))
    same = frame_model is not None and reads and (
        reads == frame_model or Path(reads).expanduser().resolve() == Path(frame_model).expanduser().resolve())
    if not same:
        raise EmotraceError(f"{name} reads the embeddings of {reads or 'an unnamed frame model'}: run it with "
                            f"--frame-model {reads or '<its CNN run>'}")
    return WindowRnnTemporal.from_loaded(loaded, name)
