import numpy as np

from pipeline.config import LABELS
from pipeline.evaluate import (assign_folds, cross_fitted_predictions, cross_val_scores, report,
                               tune_thresholds)

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
