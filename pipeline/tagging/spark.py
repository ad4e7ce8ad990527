"""`antq tag --engine spark`: the same registered pyfunc over collections too big for one
machine, through `mlflow.pyfunc.spark_udf`. Articles are split into paragraphs by the same
`split_article` as the local engine, so both give the same paragraphs, ids and labels.

Locally it runs Spark in-process (`local[*]`); on a cluster submit it with spark-submit
(see README) and the master comes from there."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from pipeline.data.ingest import Furniture, split_article
from pipeline.data.readers import Article

PACKAGE_DIR = Path(__file__).resolve().parent.parent
META = ("title", "url", "published", "outlet")
ROWS = ("kind string, article_id string, paragraph_index int, paragraph_id string, text string, "
        "title string, url string, published string, outlet string, file string, line int, rule string, "
        "reason string")


def split_records(records: pd.DataFrame, furniture: Furniture) -> pd.DataFrame:
    """Article records (`id`, `text`, optional metadata) → one row per paragraph (kind
    `paragraph`), removed furniture line (`dropped`) or unusable record (`error`)."""
    rows: list[dict[str, Any]] = []
    for record in records.to_dict("records"):
        where = {"file": record.get("_file"), "article_id": None if pd.isna(record.get("id")) else str(record["id"])}
        text = record.get("text")
        if not isinstance(text, str) or not text.strip() or where["article_id"] is None:
            rows.append({**where, "kind": "error", "reason": "record needs an 'id' and a non-empty 'text'"})
            continue
        meta = {k: str(record[k]) for k in META if isinstance(record.get(k), str) and record[k]}
        article = Article(where["article_id"], text.splitlines(), where["file"], 0, meta)
        kept, dropped = split_article(article, furniture, source="input")
        rows += [{**p, "kind": "paragraph"} for p in kept]
        rows += [{**d, "kind": "dropped"} for d in dropped]
    columns = [c.split()[0] for c in ROWS.split(", ")]
    # object columns: pandas 3's arrow-backed strings reach Spark as chunked arrays it refuses
    return pd.DataFrame(rows, columns=columns, dtype=object).astype({"paragraph_index": "Int32", "line": "Int32"})


def _session(master: str | None):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("antq-tag").config("spark.sql.shuffle.partitions", "8")
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit, which sets the master
        builder = builder.master("local[*]")
    return builder.getOrCreate()


def _ship_package(spark, folder: Path) -> None:
    """Executors on a cluster need `pipeline` to split articles; the model ships its own copy."""
    archive = shutil.make_archive(str(folder / "pipeline"), "zip", PACKAGE_DIR.parent, PACKAGE_DIR.name)
    spark.sparkContext.addPyFile(archive)


def _read(spark, inputs: list[str]):
    from pyspark.sql import functions as F

    frames = []
    for source in inputs:
        parquet = source.endswith(".parquet") or (Path(source).is_dir() and any(Path(source).glob("*.parquet")))
        frame = spark.read.parquet(source) if parquet else spark.read.json(source)
        frames.append(frame.withColumn("_file", F.input_file_name()))
    data = frames[0]
    for frame in frames[1:]:
        data = data.unionByName(frame, allowMissingColumns=True)
    wanted = [c for c in ("id", "text", *META) if c in data.columns]
    return data.select(*[F.col(c).cast("string") for c in wanted], "_file")


def tag_spark(inputs: list[str], out: str, model_uri: str, labels: list[str], furniture: Furniture,
              master: str | None = None) -> dict[str, int]:
    """Tagged paragraphs to Parquet `out`; dropped lines and bad records to `out`.dropped and
    `out`.errors, so nothing is lost. Returns how many rows of each kind."""
    spark = _session(master)
    with tempfile.TemporaryDirectory(prefix="antq-spark-") as scratch:
        _ship_package(spark, Path(scratch))
        return _run(spark, inputs, out, model_uri, labels, furniture)


def _run(spark, inputs: list[str], out: str, model_uri: str, labels: list[str], furniture: Furniture
         ) -> dict[str, int]:
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    def split(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield split_records(batch, furniture)

    rows = _read(spark, inputs).mapInPandas(split, ROWS).persist()
    counts = {r["kind"]: r["count"] for r in rows.groupBy("kind").count().collect()}
    result = "labels array<string>, " + ", ".join(f"{label} double" for label in labels)
    udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=result, env_manager="local")
    paragraphs = rows.filter(F.col("kind") == "paragraph").drop("kind", "rule", "reason")
    tagged = paragraphs.withColumn("_p", udf(F.struct("text"))).select(
        *paragraphs.columns, "_p.labels", *[F.col(f"_p.{label}") for label in labels])
    tagged.write.mode("overwrite").parquet(out)
    for kind, suffix in (("dropped", ".dropped"), ("error", ".errors")):
        rows.filter(F.col("kind") == kind).drop("kind").write.mode("overwrite").parquet(out + suffix)
    rows.unpersist()
    return {"paragraphs": counts.get("paragraph", 0), "dropped": counts.get("dropped", 0),
            "errors": counts.get("error", 0)}
