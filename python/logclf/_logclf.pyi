"""Type hints of logclf's native module (logclf/_logclf*.so)."""

from typing import Any, Sequence

import numpy as np

__version__: str

class Error(ValueError):
    """A failure the library reports: bad input, model bundle, rules file or option; the message names it."""

class Result:
    """One line's classification."""

    @property
    def label(self) -> str: ...
    @property
    def stage(self) -> str: ...  # "rule", "model" or "uncertain"
    @property
    def rule(self) -> str | None: ...
    @property
    def confidence(self) -> float: ...
    @property
    def probabilities(self) -> dict[str, float]: ...

class Classifier:
    """The hybrid log classifier: rules, then encoder + logistic-regression head, then the threshold."""

    @staticmethod
    def load(
        path: str | None = None,
        encoder_dir: str | None = None,
        *,
        encoder: str | None = None,
        precision: str = "auto",
        threads: int = 0,
    ) -> Classifier: ...
    @staticmethod
    def from_bytes(data: bytes, encoder_dir: str | None = None) -> Classifier: ...
    def to_bytes(self) -> bytes: ...
    def classify(self, message: str, source: str | None = None) -> Result: ...
    def classify_batch(
        self,
        messages: Sequence[str],
        sources: Sequence[str | None] | None = None,
        *,
        probabilities: bool = True,
        cache: str = "exact",
        workers: int = 0,
    ) -> list[Result]: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def threshold(self) -> float: ...
    @threshold.setter
    def threshold(self, value: float) -> None: ...
    @property
    def encoder(self) -> str: ...
    @property
    def rules(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    def save(self, path: str) -> None: ...

class _SentenceEncoder:
    def __init__(self, encoder_dir: str | None, precision: str, threads: int) -> None: ...
    @property
    def dim(self) -> int: ...
    @property
    def location(self) -> str: ...
    def embed(self, texts: Sequence[str], prefix: str) -> np.ndarray: ...

def _train(*args: Any) -> tuple[Classifier, dict[str, Any]]: ...
def _evaluate(*args: Any) -> dict[str, Any]: ...
