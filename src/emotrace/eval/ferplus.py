"""Every FER+ / FER2013 number of a frame model on one FER+ split: the figures the shipped model card reports."""

from __future__ import annotations

from typing import Any

import torch

from emotrace.data.proxies import va_from_distribution
from emotrace.data.readers.ferplus import FerPlusSplit
from emotrace.eval.calibration import calibration_summary
from emotrace.eval.evaluation import Evaluation
from emotrace.eval.metrics import classification_metrics, regression_metrics
from emotrace.labels import EMOTIONS
from emotrace.models.outputs import predict_heads


def evaluate_ferplus(model: torch.nn.Module, split: FerPlusSplit) -> dict[str, Any]:
    """Every FER+ / FER2013 number of one split.

    - `ferplus7`: plurality label over the seven emotions (images won by contempt/unknown/NF left out);
    - `ferplus_majority7` / `ferplus_majority8`: the FERPlus reference majority rule, seven classes or eight with
      contempt (eight only for a model with a contempt output);
    - `fer2013`: FER2013's original labels, scored on the FER2013 head where the model has one, else the main head
      (`fer2013_main_head` then holds the main head's score too);
    - `va`: CCC against the vote-distribution proxies, where the model has a valence/arousal head.
    """
    out = predict_heads(model, split.images, device=next(model.parameters()).device, logits=True)
    probs = out["probs"]
    pred7 = probs[:, :len(EMOTIONS)].argmax(1)
    res: dict[str, Any] = {}
    maj = split.majority_labels()
    m = maj >= 0
    res["ferplus7"] = classification_metrics(maj[m], pred7[m], len(EMOTIONS))
    ref7 = split.reference_majority(False)
    res["ferplus_majority7"] = classification_metrics(ref7[ref7 >= 0], pred7[ref7 >= 0], len(EMOTIONS))
    # Calibration over the seven emotions as the pipeline folds them (softmax of their logits), plurality labels.
    res["calibration"] = calibration_summary(out["logits"][m, :len(EMOTIONS)], maj[m])
    if probs.shape[1] > len(EMOTIONS):
        ref8 = split.reference_majority(True)
        pred8 = probs.argmax(1)
        res["ferplus_majority8"] = classification_metrics(ref8[ref8 >= 0], pred8[ref8 >= 0], probs.shape[1])
    fer = split.fer2013_labels
    f = fer >= 0
    if f.any():
        res["fer2013_main_head"] = classification_metrics(fer[f], pred7[f], len(EMOTIONS))
        head = out.get("probs_fer2013")
        res["fer2013"] = (classification_metrics(fer[f], head.argmax(1)[f], len(EMOTIONS)) if head is not None
                          else res["fer2013_main_head"])
    if "valence_arousal" in out:
        seven = split.soft_labels()
        ok = seven.sum(1) > 0
        res["va"] = regression_metrics(out["valence_arousal"][ok], va_from_distribution(seven[ok]))
    return res


def ferplus_summary(ev: dict[str, Any]) -> dict[str, Any]:
    """The flat headline numbers of `evaluate_ferplus`, as printed and recorded."""
    summary: dict[str, Any] = {}
    for key in ("ferplus7", "ferplus_majority7", "ferplus_majority8", "fer2013", "fer2013_main_head"):
        if key in ev:
            summary.update({f"{key}_{m}": ev[key][m] for m in ("accuracy", "uar", "macro_f1", "n")})
    if "calibration" in ev:
        summary.update(ev["calibration"])
    if "va" in ev:
        summary.update({"va_proxy_ccc_valence": ev["va"]["valence"]["ccc"],
                        "va_proxy_ccc_arousal": ev["va"]["arousal"]["ccc"], "va_proxy_mean_ccc": ev["va"]["mean_ccc"]})
    return summary


def ferplus_evaluation(model: torch.nn.Module, split: FerPlusSplit, model_name: str, data: str,
                       split_name: str) -> Evaluation:
    """`evaluate_ferplus` as an `Evaluation`: the flat summary, the plurality confusion, and every detail."""
    ev = evaluate_ferplus(model, split)
    summary = {"model": model_name, "data": str(data), "split": split_name, **ferplus_summary(ev)}
    f7 = ev["ferplus7"]
    record = {**summary, "accuracy": f7["accuracy"], "uar": f7["uar"], "macro_f1": f7["macro_f1"],
              "confusion": f7["confusion"], "per_class_recall": f7["per_class_recall"], "detail": ev}
    return Evaluation(record, title=f"{model_name} on FER+ {split_name} (plurality labels, 7 classes)",
                      headline=summary, classes=EMOTIONS)


# A frame model card's (manifest's) metric name -> the key of `ferplus_summary` it records, stated once: `emotrace
# ship` writes the card from it, and the tests check that `emotrace evaluate` reproduces every one.
CARD_KEYS = {
    "ferplus_valid_acc_7class_plurality": "ferplus7_accuracy",
    "ferplus_valid_uar_7class": "ferplus7_uar",
    "ferplus_valid_macro_f1_7class": "ferplus7_macro_f1",
    "ferplus_valid_n": "ferplus7_n",
    "ferplus_valid_acc_7class_majority": "ferplus_majority7_accuracy",
    "ferplus_valid_uar_7class_majority": "ferplus_majority7_uar",
    "ferplus_valid_n_7class_majority": "ferplus_majority7_n",
    "fer2013_valid_acc_original_labels": "fer2013_accuracy",
    "fer2013_valid_uar": "fer2013_uar",
    "fer2013_valid_n": "fer2013_n",
    "fer2013_valid_acc_main_head": "fer2013_main_head_accuracy",
    "ferplus_valid_acc_8class_majority": "ferplus_majority8_accuracy",
    "ferplus_valid_uar_8class_majority": "ferplus_majority8_uar",
    "ferplus_valid_n_8class_majority": "ferplus_majority8_n",
    "calibration_temperature": "calibration_temperature",
    "ferplus_valid_ece_raw_odd_rows": "ece_raw_odd_rows",
    "ferplus_valid_ece_calibrated_odd_rows": "ece_calibrated_odd_rows",
    "ferplus_valid_ece_raw": "ece_raw",
    "ferplus_valid_ece_calibrated": "ece_calibrated",
    "va_proxy_ccc_valence": "va_proxy_ccc_valence",
    "va_proxy_ccc_arousal": "va_proxy_ccc_arousal",
    "va_proxy_mean_ccc": "va_proxy_mean_ccc",
}
CONFUSION_KEYS = {"confusion_ferplus7": "ferplus7", "confusion_ferplus_majority7": "ferplus_majority7",
                  "confusion_ferplus_majority8": "ferplus_majority8", "confusion_fer2013": "fer2013"}


def card_metrics(ev: Evaluation) -> tuple[dict[str, Any], dict[str, Any]]:
    """A frame model card's numbers and confusion matrices from `ferplus_evaluation`'s result."""
    summary, detail = ev.metrics, ev.metrics["detail"]
    metrics = {card: summary[key] for card, key in CARD_KEYS.items() if key in summary}
    metrics["calibration_fit_on"] = "FER+ Valid, even rows (plurality label, 7 classes)"
    confusions = {card: detail[key]["confusion"] for card, key in CONFUSION_KEYS.items() if key in detail}
    return metrics, confusions
