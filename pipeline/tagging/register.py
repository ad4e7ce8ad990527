"""The tagger as an MLflow pyfunc model: a DataFrame with a `text` column in, labels and
per-theme scores out. Saved to a folder (DVC output) and registered in the model registry."""
from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parent.parent


class ThemeTaggerModel(mlflow.pyfunc.PythonModel):
    """Loads the saved `Tagger` folder; everything else is the Tagger's job."""

    def load_context(self, context) -> None:
        from pipeline.tagging.tagger import Tagger

        self.tagger = Tagger.load(Path(context.artifacts["tagger"]))

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if isinstance(model_input, pd.DataFrame):
            if "text" not in model_input.columns:
                raise ValueError(f"input needs a 'text' column; got columns {list(model_input.columns)}")
            texts = model_input["text"].tolist()
        else:
            texts = list(model_input)
        return self.tagger.predict_frame(texts)


def requirements(kind: str) -> list[str]:
    """Pinned inference requirements. torch and transformers only when the model needs them."""
    names = ["mlflow", "pandas", "numpy", "scikit-learn", "underthesea", "joblib", "PyYAML"]
    if kind in ("finetune", "encoder_head"):
        names += ["torch", "transformers", "tokenizers", "safetensors"]
    pins = [f"{n}=={version(n)}" for n in names]
    return [p.replace("+cpu", "") for p in pins]


def model_kwargs(tagger_dir: Path, kind: str, example: pd.DataFrame) -> dict[str, Any]:
    from mlflow.models import infer_signature

    from pipeline.tagging.tagger import Tagger

    output = Tagger.load(tagger_dir).predict_frame(example["text"].tolist())
    return {
        "python_model": ThemeTaggerModel(),
        "artifacts": {"tagger": str(tagger_dir)},
        "code_paths": [str(PACKAGE_DIR)],
        "pip_requirements": requirements(kind),
        "signature": infer_signature(example, output),
        "input_example": example,
    }


def save_local(tagger_dir: Path, out_dir: Path, kind: str, example: pd.DataFrame) -> Path:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    mlflow.pyfunc.save_model(path=str(out_dir), **model_kwargs(tagger_dir, kind, example))
    return out_dir


def log_and_register(tagger_dir: Path, kind: str, example: pd.DataFrame, name: str) -> str:
    """Log the pyfunc in the active run and register it; returns the `models:/` URI."""
    info = mlflow.pyfunc.log_model(name="tagger", registered_model_name=name,
                                   **model_kwargs(tagger_dir, kind, example))
    return f"models:/{name}/{info.registered_model_version}"
