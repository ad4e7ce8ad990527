import numpy as np

from pipeline.config import LABELS
from pipeline.evaluation.metrics import (assign_folds, cross_fitted_predictions, cross_val_scores, paired_difference,
                               repeated_folds, report, summarize, tune_thresholds)

ARTICLES = ["s1", "s1", "s2", "s3", "s4", "s5", "y1", "y2", "y2", "y3"]
SOURCES = ["seed"] * 6 + ["synthetic"] * 4


def test_folds_keep_articles_whole_and_hold_out_one_real_article_each():
    folds = assign_folds(ARTICLES, SOURCES, 5)
    by_article = {}
    for article, fold in zip(ARTICLES, folds):
        by_article.setdefault(article, set()).add(fold)
    assert all(len(f) == 1 for f in by_article.values())
    real_folds = [by_article[a].pop() for a in ("s1", "s2", "s3", "s4", "s5")]
    assert sorted(real_folds) == [0, 1, 2, 3, 4]


def test_cross_val_never_trains_on_the_test_fold():
    folds = assign_folds(ARTICLES, SOURCES, 3)
    seen = []

    def fit_predict(train):
        seen.append(train.copy())
        return lambda test: np.full((test.sum(), 2), float(test.sum()))

    cross_val_scores(folds, fit_predict, 2)
    for train, fold in zip(seen, np.unique(folds)):
        assert not (train & (folds == fold)).any() and train[folds != fold].all()


def test_thresholds_for_a_fold_are_tuned_without_it():
    y = np.array([[1], [0], [1], [0]], dtype=bool)
    scores = np.array([[0.9], [0.1], [0.3], [0.2]])
    folds = np.array([0, 0, 1, 1])
    # fold 1 alone would want 0.25; fold 0 prefers 0.5 (closest to 0.5 among its best)
    decided = cross_fitted_predictions(y, scores, folds, [0.25, 0.5])
    assert decided[:, 0].tolist() == [True, False, False, False]
    assert tune_thresholds(y[2:], scores[2:], [0.25, 0.5]).tolist() == [0.25]


def test_report_counts():
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=bool)
    rep = report(y, y.copy(), LABELS)
    assert rep["n"] == 2 and rep["micro_f1"] == 1.0 and rep["per_theme"]["propaganda"]["support"] == 1


def test_every_repeat_keeps_articles_whole_and_repeats_differ():
    articles = [f"a{i // 3}" for i in range(60)]
    sources = ["seed" if i < 15 else "synthetic" for i in range(60)]
    repeats = repeated_folds(articles, sources, 5, 4, seed=1)
    for folds in repeats:
        fold_sets = {}
        for article, fold in zip(articles, folds):
            fold_sets.setdefault(article, set()).add(int(fold))
        assert all(len(f) == 1 for f in fold_sets.values())
        assert set(folds.tolist()) == set(range(5))
    assert any((r != repeats[0]).any() for r in repeats[1:])


def test_thresholds_of_a_fold_ignore_its_labels_and_scores():
    rng = np.random.default_rng(0)
    y = rng.random((60, 3)) < 0.4
    scores = np.clip(y * 0.5 + rng.random((60, 3)) * 0.6, 0, 1)
    folds = np.repeat(np.arange(3), 20)
    grid = [0.2, 0.4, 0.6, 0.8]
    before = cross_fitted_predictions(y, scores, folds, grid)
    y2, scores2 = y.copy(), scores.copy()
    y2[folds == 0] = ~y2[folds == 0]
    scores2[folds == 0] = rng.random((20, 3))
    after = cross_fitted_predictions(y2, scores2, folds, grid)
    cut = tune_thresholds(y[folds != 0], scores[folds != 0], grid)
    np.testing.assert_array_equal(after[folds == 0], scores2[folds == 0] >= cut)
    np.testing.assert_array_equal(before[folds == 0], scores[folds == 0] >= cut)


def test_summary_intervals_bracket_the_score_and_resample_articles():
    rng = np.random.default_rng(3)
    y = rng.random((80, 4)) < 0.4
    noisy = y ^ (rng.random((80, 4)) < 0.2)
    groups = np.array([f"a{i // 8}" for i in range(80)])
    summary = summarize(y, [noisy], groups, LABELS, 500, seed=0)
    low, high = summary["macro_f1_ci"]
    assert low <= summary["macro_f1"] <= high and high - low > 0.01
    assert summary["articles"] == 10 and summary["per_theme"]["recognition"]["support"] == int(y[:, 3].sum())
    perfect = summarize(y, [y.copy(), y.copy()], groups, LABELS, 200, seed=0)
    assert perfect["macro_f1"] == 1.0 and perfect["macro_f1_ci"] == [1.0, 1.0] and perfect["repeats"] == 2


def test_paired_difference_is_zero_for_equal_models_and_clear_for_a_real_gain():
    rng = np.random.default_rng(5)
    y = rng.random((120, 4)) < 0.4
    groups = np.array([f"a{i // 6}" for i in range(120)])
    noisy = y ^ (rng.random((120, 4)) < 0.25)
    same = paired_difference(y, [noisy], [noisy.copy()], groups, 300, seed=0)
    assert same == {"macro_f1": 0.0, "ci": [0.0, 0.0]}
    better = y ^ (rng.random((120, 4)) < 0.05)
    gain = paired_difference(y, [better], [noisy], groups, 300, seed=0)
    own = [summarize(y, [p], groups, LABELS, 300, seed=0)["macro_f1"] for p in (better, noisy)]
    assert abs(gain["macro_f1"] - (own[0] - own[1])) < 1e-3 and 0 < gain["ci"][0] <= gain["macro_f1"] <= gain["ci"][1]
    assert paired_difference(y, [noisy], [better], groups, 300, seed=0)["ci"][1] < 0
