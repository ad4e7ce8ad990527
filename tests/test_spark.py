"""`antq tag --engine spark` runs the same pyfunc through mlflow's spark_udf in Spark local
mode and gives the same paragraphs and labels as the local engine. One small Spark session."""
from __future__ import annotations

import json

import mlflow.pyfunc
import pandas as pd
import pytest

from pipeline.config import LABELS
from pipeline.files import read_jsonl
from pipeline.tagging.spark import tag_spark
from pipeline.tagging.tag import TagOptions, tag

pytestmark = pytest.mark.slow


def test_spark_and_local_engines_agree(tmp_path, tag_inputs, tfidf_pyfunc, furniture):
    collection = tag_inputs / "m_collection.jsonl"
    local_out = tmp_path / "local.jsonl"
    tag([collection], local_out, mlflow.pyfunc.load_model(str(tfidf_pyfunc)), LABELS, furniture, TagOptions())
    records = [json.loads(line) for line in collection.read_text(encoding="utf-8").splitlines()]
    table = tmp_path / "articles.parquet"
    pd.DataFrame([*records[:4], {"id": "no-text", "text": None}]).to_parquet(table)

    out = tmp_path / "tagged.parquet"
    counts = tag_spark([str(collection), str(table)], str(out), str(tfidf_pyfunc), LABELS, furniture, "local[2]")

    local = {(r["article_id"], r["paragraph_index"]): r for r in read_jsonl(local_out)}
    spark = pd.read_parquet(out)
    assert counts["paragraphs"] == len(spark) and counts["errors"] == 1
    from_jsonl = spark[spark["file"].str.endswith(".jsonl")]
    from_parquet = spark[spark["file"].str.endswith(".parquet")]
    assert len(from_jsonl) == len(local) and len(from_parquet) == sum(k[0] in {r["id"] for r in records[:4]}
                                                                      for k in local)
    for _, row in spark.iterrows():
        expected = local[(row["article_id"], row["paragraph_index"])]
        assert row["paragraph_id"] == expected["paragraph_id"] and list(row["labels"]) == expected["labels"]
        assert all(abs(row[label] - expected["scores"][label]) < 1e-4 for label in LABELS)
    errors = pd.read_parquet(f"{out}.errors")
    assert errors["article_id"].tolist() == ["no-text"] and "text" in errors["reason"].iloc[0]
    assert len(pd.read_parquet(f"{out}.dropped")) == counts["dropped"]
