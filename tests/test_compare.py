import numpy as np

from pipeline.evaluation import compare
from pipeline.evaluation.card import render_card
from pipeline.config import LABELS, load_params
from pipeline.models.base import Texts
from pipeline.text import segment


def test_phobert_and_student_run_only_with_a_backbone_and_student_follows_teacher():
    wanted = ["rules", "student", "tfidf", "finetune"]
    assert compare.model_names(wanted, "tfidf") == (["rules", "tfidf"], ["student", "finetune"])
    assert compare.model_names(wanted, "finetune")[0] == ["rules", "tfidf", "finetune", "student"]
    assert compare.model_names(["rules"], "student")[0] == ["rules", "finetune", "student"]


def test_models_share_folds_and_get_intervals_card_reports_them(seed_paragraphs, seed_gold):
    targets = np.array([[l in seed_gold[p["paragraph_id"]].labels for l in LABELS] for p in seed_paragraphs],
                       dtype=np.float32)
    texts = Texts([p["text"] for p in seed_paragraphs], [segment(p["text"]) for p in seed_paragraphs])
    data = compare.Data(texts, targets,
                        np.array([p["article_id"] for p in seed_paragraphs]), np.array(["seed"] * len(targets)))
    params = load_params()
    params["evaluate"] |= {"repeats": 2, "bootstrap": 100}
    outcome = compare.run(data, ["rules", "tfidf"], "tfidf", params, LABELS)
    assert len(outcome.folds) == 2 and all(len(outcome.decisions[m]) == 2 for m in ("rules", "tfidf"))
    explained = compare.explain(outcome, data, np.array([0, 5]))
    assert explained[0] and explained[5] and not explained[1]
    assert all(len(scores) == len(LABELS) for _, scores in explained[0])
    table = compare.table(data, outcome, LABELS, params)
    rep = table["tfidf"]["seed"]
    assert rep["n"] == 41 and rep["repeats"] == 2 and rep["macro_f1_ci"][0] <= rep["macro_f1"] <= rep["macro_f1_ci"][1]
    assert table["rules"]["paragraphs_per_second"] > 0 and "vs_rules" not in table["rules"]["seed"]
    low, high = rep["vs_rules"]["ci"]
    assert low <= rep["vs_rules"]["macro_f1"] <= high
    md = compare.markdown(table, LABELS, ["finetune"])
    assert "| tfidf | seed | 41 |" in md and "Not run: finetune" in md
    card = render_card({"model_kind": "tfidf"}, {"labelled": 41, "by_source": {"seed": 41}}, {"comparison": table},
                       LABELS, dict.fromkeys(LABELS, 0.5), "models:/x/1",
                       [{"source": "seed", "missed": ["recognition"], "extra": []}])
    assert "41 seed" in card and f"{rep['macro_f1']:.3f} [{rep['macro_f1_ci'][0]:.2f}" in card
    assert "Against the keyword rules on real paragraphs" in card
    assert "## Known failure modes" in card and "recognition 1" in card and "## Intended use" in card


def test_variants_name_a_kind_and_a_training_mix():
    variants = {"eh_real": {"kind": "encoder_head", "source_weights": {"synthetic": 0.0}}, "words": {"rule_features": False}}
    assert compare.model_names(["rules", "eh_real", "words"], "tfidf", variants) == (["rules", "words", "tfidf"], ["eh_real"])
    assert compare.model_names(["rules", "eh_real"], "encoder_head", variants)[0] == ["rules", "eh_real", "encoder_head"]
    params = load_params()
    kind, overrides = compare._variant(variants["eh_real"])
    merged = compare._override(params, kind, overrides)
    assert kind == "encoder_head" and merged["model"]["source_weights"] == {"synthetic": 0.0}
    assert merged["encoder_head"] == params["encoder_head"] and params["model"]["source_weights"] != {"synthetic": 0.0}


def test_thresholds_are_tuned_on_real_rows_only():
    from pipeline.evaluation import metrics as ev

    y = np.array([[1], [0], [1], [0]], dtype=bool)
    scores = np.array([[0.9], [0.1], [0.3], [0.2]], dtype=np.float32)
    folds = np.array([0, 0, 1, 1])
    # fold 1 is decided with thresholds from fold 0: all rows, or the real row 0 only
    real_only = ev.cross_fitted_predictions(y, scores, folds, [0.2, 0.5, 0.8], np.array([True, False, False, False]))
    assert real_only[2, 0] == False  # 0.8 (the real row's best cut) misses the 0.3 positive  # noqa: E712
