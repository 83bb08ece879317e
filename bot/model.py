"""The trained model: one file per fingerprint of everything that shapes it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.config import PROJECT_ROOT, RASA_PROCESS_ENVIRONMENT

# Same data, same config, same machine type -> the same model, in CI as on a laptop: seeded
# components (config.yml) plus deterministic TensorFlow ops and a fixed Python hash seed.
REPRODUCIBLE_TRAINING = {"TF_DETERMINISTIC_OPS": "1", "PYTHONHASHSEED": "0"}
# What the model is trained from: data, domain, config, the code of our NLU components and the
# text rules they apply (the tokenizer's Turkish normalisation).
TRAINING_INPUTS = ("config.yml", "domain", "data", "bot/nlu", "bot/text")


def training_input_files(root: Path) -> list[Path]:
    """Every file a model is trained from, in a stable order."""
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(files)


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A short hash of the training inputs' paths and contents."""
    digest = hashlib.sha256()
    for path in training_input_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def current_model_path(root: Path = PROJECT_ROOT) -> Path:
    """Where the model for the current inputs lives (it may not exist yet)."""
    return root / "models" / f"staj-asistani-{fingerprint(root)}.tar.gz"


def training_record(model: Path) -> dict:
    """What was recorded when `model` was trained (seconds it took), or {}."""
    record = model.with_name(model.name.removesuffix(".tar.gz") + ".json")
    return json.loads(record.read_text()) if record.exists() else {}


def train(command: list[str], model: Path, cwd: Path) -> None:
    """Runs a `rasa train` command that writes `model`, and records how long it took."""
    started = time.monotonic()
    subprocess.run(
        command,
        cwd=cwd,
        check=True,
        env={**os.environ, **RASA_PROCESS_ENVIRONMENT, **REPRODUCIBLE_TRAINING},
    )
    seconds = round(time.monotonic() - started, 1)
    record = model.with_name(model.name.removesuffix(".tar.gz") + ".json")
    record.write_text(json.dumps({"training_seconds": seconds, "command": command[2:]}))
    print(f"Trained {model.name} in {seconds} s", flush=True)


def ensure_trained(root: Path = PROJECT_ROOT) -> Path:
    """Trains a model unless one matching the current inputs exists; returns its path."""
    model = current_model_path(root)
    if model.exists():
        print(f"Model up to date: {model.relative_to(root)}")
        return model
    print(f"Training {model.relative_to(root)} (data, domain or config changed) ...", flush=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain",
        "--data",
        "data",
        "--out",
        "models",
        "--fixed-model-name",
        model.name.removesuffix(".tar.gz"),
    ]
    train(command, model, root)
    return model
