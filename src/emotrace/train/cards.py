"""Model cards written from the manifest record, so that a card can never disagree with the numbers shipped.

`python -m emotrace.train.cards` rewrites every card in `emotrace/models/weights/`; `emotrace ship` writes the
shipped model's card.
"""

from __future__ import annotations

import json
from typing import Any

from emotrace.models.manifest import WEIGHTS_DIR, WeightRecord, manifest


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _frame_card(name: str, r: dict[str, Any]) -> str:
    m = r["metrics"]
    cfg = r.get("train_config", {})
    rows = [("FER+ plurality label, 7 classes", m.get("ferplus_valid_n"), m.get("ferplus_valid_acc_7class_plurality"),
             m.get("ferplus_valid_uar_7class")),
            ("FER+ majority (FERPlus reference rule), 7 classes", m.get("ferplus_valid_n_7class_majority"),
             m.get("ferplus_valid_acc_7class_majority"), m.get("ferplus_valid_uar_7class_majority"))]
    if "ferplus_valid_acc_8class_majority" in m:
        rows.append(("FER+ majority, 8 classes (with contempt)", m["ferplus_valid_n_8class_majority"],
                     m["ferplus_valid_acc_8class_majority"], m["ferplus_valid_uar_8class_majority"]))
    head = "FER2013 head" if r.get("fer2013_head") else "main head"
    rows.append((f"FER2013 original labels, 7 classes ({head})", m.get("fer2013_valid_n"),
                 m.get("fer2013_valid_acc_original_labels"), m.get("fer2013_valid_uar")))
    if r.get("fer2013_head"):
        rows.append(("FER2013 original labels, scored on the FER+ head", m.get("fer2013_valid_n"),
                     m.get("fer2013_valid_acc_main_head"), None))
    table = "\n".join(f"| {a} | {n:,} | {_pct(acc)} | {_pct(uar)} |" for a, n, acc, uar in rows if acc is not None)
    va = ""
    if "va_proxy_mean_ccc" in m:
        va = (f"\n- **Valence/arousal (PROXIES)**: CCC against circumplex proxies of the FER+ Valid vote "
              f"distributions: valence {m['va_proxy_ccc_valence']:.3f}, arousal {m['va_proxy_ccc_arousal']:.3f}, mean "
              f"{m['va_proxy_mean_ccc']:.3f}. These are not annotated valence/arousal; no such data is here.")
    classes = ", ".join(r["classes"])
    folded = " The pipeline folds contempt away and renormalises over the seven emotions." \
        if "contempt" in r["classes"] else ""
    heads = ["FER+ vote distribution (soft target)"] + (["FER2013 original labels"] if r.get("fer2013_head") else []) \
        + (["valence/arousal proxies with a CCC loss"] if r.get("valence_arousal") else [])
    distilled = ""
    if cfg.get("teachers"):
        flip = ", each also on the mirrored face" if cfg.get("teacher_flip") else ""
        distilled = (f"\n- **Distilled from**: {', '.join(cfg['teachers'])} (an ensemble in the balanced space"
                     f"{flip}; temperature {cfg.get('distill_temperature', cfg.get('temperature'))}, weight "
                     f"{cfg.get('distill_weight')} on the teachers).")
    data = ("FER2013 Train images with the FER+ ten-annotator votes (and FER2013's original labels where a\n"
            "  head uses them).")
    if r.get("task") == "mix":
        extra = ", ".join(cfg.get("extra", {}))
        data = (f"FER+ Train (votes, FER2013 labels) plus {extra} as the pipeline's own crops of their photos, "
                f"{100 * (1 - cfg.get('holdout_fraction', 0.25)):.0f}% of each set's groups (subjects, performers, "
                f"movies); dataset shares {json.dumps(cfg.get('shares', {}))}; balance `{cfg.get('balance')}`; "
                f"fine-tuned from `{cfg.get('init_from') or 'scratch'}`; {r.get('description', '')}.")
    schedule = f"{cfg.get('optimizer', 'adamw')} {cfg.get('scheduler', 'onecycle')}"
    photo = _photo_sets(m.get("photo_sets_holdout"), name)
    calib = ""
    if "calibration_temperature" in m:
        calib = (f"\n- **Calibration**: softmax temperature {m['calibration_temperature']:.3f} fitted on "
                 f"{m.get('calibration_fit_on', 'FER+ Valid')}, applied by the runtime; expected calibration error "
                 f"on the other rows {_pct(m.get('ferplus_valid_ece_raw_odd_rows'))} before, "
                 f"{_pct(m.get('ferplus_valid_ece_calibrated_odd_rows'))} after.")
    return f"""# Model card: {name}{' (default frame model)' if r.get('default') else ''}

- **Architecture**: `{r['arch']}` {json.dumps(r.get('arch_kwargs', {}))}: VGG-style CNN, global average pool to a
  {r['embedding_dim']}-d embedding shared by the heads.
- **Input**: {r['input_size']}x{r['input_size']} grayscale face aligned by `emotrace.faces.align.FaceAligner` onto the
  FER template; values in [0, 1]; normalisation is inside the model.
- **Output**: logits over {classes}.{folded} Embedding for the temporal model.
- **Heads trained**: {'; '.join(heads)}.{distilled}
- **Training data**: {data} {cfg.get('epochs')} epochs, {schedule} (lr {cfg.get('lr')}), batch {cfg.get('batch_size')},
  augmentation on. The last epoch is shipped (`{r.get('weights_from', 'best.pt')}`): no epoch was picked on Valid.
- **Command**: `{r['trained_with']}`, then `emotrace ship RUN_DIR --name {name}`. Commit {r['commit']}.
- **Trained on**: {r.get('trained_on') or 'not recorded'}.
- **Metrics on FER2013Valid** (= FER2013 PublicTest; the test split is held back). Reproduce with
  `emotrace evaluate {name} ../shared/data/ferplus`:

  | label set | n | accuracy | UAR |
  |---|---|---|---|
{_indent(table)}
{va}{calib}{photo}
- Confusion matrices are in `manifest.json` (`confusions`); rows are true labels in class order.
- **Known limits**: trained on 48x48 gray FER crops (mostly frontal, web images); accuracy on the original FER2013
  labels is below the best published single network (73.28%); disgust and fear are rare classes and recalled
  worst; profile faces are not detected by BlazeFace and get no prediction.
- **Licence of the training data**: {r.get('data_licence')}. The weights inherit that restriction.
- **Files**: `{r['file']}` (sha256 {r['sha256'][:16]}...), `{r['onnx_file']}` (sha256 {r['onnx_sha256'][:16]}...),
  {r['size_bytes'] / 1e6:.1f} MB together.
"""


def _photo_sets(sets: dict[str, Any] | None, name: str) -> str:
    """The held-out photo-set rows of a mix model, scored through the pipeline."""
    if not sets:
        return ""
    rows = "\n".join(f"| {k} | {v['rows']} | {v['n']} | {_pct(v['accuracy'])} | {_pct(v['uar'])} | "
                     f"{min(v['per_class_recall']) * 100:.0f}% | {v['neutral_share_gap'] * 100:+.1f} |"
                     for k, v in sets.items())
    return (f"\n- **Photo sets through the pipeline** (groups the run never trained on), reproduce with "
            f"`emotrace evaluate {name} ../shared/data/SET --photos --split holdout`:\n\n"
            "  | set | rows | n | accuracy | UAR | lowest class recall | \"neutral\" answered minus true (points) |\n"
            "  |---|---|---|---|---|---|---|\n" + _indent(rows) + "\n")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _temporal_card(name: str, r: dict[str, Any]) -> str:
    m = r["metrics"]
    cfg = r.get("train_config", {})
    lines = []
    cv = m.get("ckplus_10fold")
    if cv:
        lines.append(f"| CK+ subject-independent {cv['kfold']}-fold, sequence label at the clip's last frame "
                     f"({cv['sequences']} sequences) | {_pct(cv['temporal_accuracy'])} | "
                     f"{_pct(cv['frame_accuracy'])} |")
    syn = m.get("ferplus_valid_synthetic")
    if syn:
        lines.append(f"| FER+ Valid rendered sequences, per-frame accuracy | {_pct(syn['temporal']['frame_accuracy'])} "
                     f"| {_pct(syn['frame']['frame_accuracy'])} |")
        lines.append(f"| same, top-label changes per second (truth: {syn['truth']['label_changes_per_s']:.2f}) | "
                     f"{syn['temporal']['label_changes_per_s']:.2f} | {syn['frame']['label_changes_per_s']:.2f} |")
        lines.append(f"| same, median / p90 frames to follow a change | {syn['temporal']['median_frames_to_follow']} / "
                     f"{syn['temporal']['p90_frames_to_follow']} | {syn['frame']['median_frames_to_follow']} / "
                     f"{syn['frame']['p90_frames_to_follow']} |")
    fl = m.get("media_flicker")
    if fl:
        lines.append(f"| ../shared/media videos, top-label changes per second per track ({fl['tracks_scored']} tracks, "
                     f"{fl['track_seconds']:.1f} s) | {fl['temporal_changes_per_s']:.3f} | "
                     f"{fl['frame_changes_per_s']:.3f} |")
    va = syn.get("va_proxy") if syn else None
    va_line = (f"\n- **Valence/arousal (PROXIES)** on the FER+ Valid rendered sequences: CCC valence "
               f"{va['valence']['ccc']:.3f}, arousal {va['arousal']['ccc']:.3f}.") if va else ""
    va_out = " and valence/arousal (tanh, proxies)" if r.get("valence_arousal") else ""
    return f"""# Model card: {name}{' (default temporal model)' if r.get('default') else ''}

- **Architecture**: `{r['arch']}` {json.dumps(r.get('arch_kwargs', {}))}, stepped once per frame per track; the
  hidden state lives with the track id and dies with it.
- **Input**: the {r['frame_model']} embedding of each frame of one track. It only works with that frame model; the
  pipeline checks and falls back to EMA smoothing for any other.
- **Output**: logits over {', '.join(r['classes'])}{va_out}.
- **Training data**: {cfg.get('ferplus_sequences')} sequences of {cfg.get('length')} frames rendered from FER+
  Train stills and {cfg.get('ckplus_clips_per_subject')} chained clips per CK+ subject (neutral first frame, onset,
  three apex frames, next sequence of the same subject), with frame-to-frame motion, blur, noise, light drift and
  brief occlusion (`emotrace/data/synthetic.py`). Frame model frozen.
- **Command**: `{r['trained_with']}`, then `emotrace ship RUN_DIR --name {name}`. Commit {r['commit']}.
- **Trained on**: {r.get('trained_on') or 'not recorded'}.
- **Metrics** (temporal model vs the frame model alone on the same frames):

  | measure | temporal | frame model alone |
  |---|---|---|
{_indent(chr(10).join(lines))}
{va_line}
- Reproduce: `emotrace evaluate {name} ../shared/data/ferplus` (rendered Valid sequences),
  `emotrace evaluate {name} ../shared/media` (flicker), `emotrace train configs/temporal-gru.yaml --crossval`
  (CK+ 10-fold: one model per fold, its test subjects never seen).
- **Known limits**: rendered sequences change identity at every emotion change (FER2013 has no identities); CK+
  has only the first and the last three frames of each sequence, so onsets are cross-fades, not real motion; the
  model was trained at an assumed 25 frames/s and steps per frame, so at very different frame rates it follows
  changes faster or slower in seconds.
- **Licence of the training data**: {r.get('data_licence')}. The weights inherit that restriction.
- **Files**: `{r['file']}`, `{r['onnx_file']}` (per-frame step with state in and out), {r['size_bytes'] / 1e6:.2f} MB.
"""


def _view(rec: WeightRecord) -> dict[str, Any]:
    """The record as the card templates read it: stored fields plus the contract's derived ones."""
    return {**rec.to_dict(), "classes": rec.classes, "input_size": rec.input_size,
            "embedding_dim": rec.embedding_dim, "valence_arousal": rec.valence_arousal,
            "fer2013_head": rec.fer2013_head}


def card_text(rec: WeightRecord) -> str:
    """The Markdown card of one shipped model."""
    view = _view(rec)
    return _temporal_card(rec.name, view) if rec.role == "temporal" else _frame_card(rec.name, view)


def write_cards(names: list[str] | None = None) -> list[str]:
    """Rewrite the cards of `names` (default: every shipped model) from the manifest; returns the names written."""
    written = []
    for name, rec in manifest().items():
        if names is None or name in names:
            (WEIGHTS_DIR / f"{name}.md").write_text(card_text(rec))
            written.append(name)
    return written


if __name__ == "__main__":
    print("wrote cards:", ", ".join(write_cards()))
