"""Weight-space ensembling of a fine-tuned query encoder with the encoder it started from.

Fine-tuning on feedback moves the query encoder toward the questions people asked; on questions
nobody asked yet it can lose (SciFact test claims whose relevant abstracts no training claim
chose: nDCG@10 0.6516 -> 0.6338). Averaging the weights of the starting and the fine-tuned
model, ``(1 - alpha) * start + alpha * tuned``, keeps most of the gain on the first kind and
loses less on the second (WiSE-FT: Wortsman et al., "Robust fine-tuning of zero-shot models",
CVPR 2022). ``alpha`` is chosen on the held-back feedback, as the challenger would serve it:
its choice memory and fusion included.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.loop.challenger import build_challenger
from lifecycle.loop.evaluation_sets import feedback_set
from lifecycle.loop.pairs import TrainingData
from search.index import SearchIndex

# 1.0 is the fine-tuned encoder as trained; 0.0 (left out) would be the starting encoder
MIX_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Mixture:
    """The mixing weight a fine-tuned encoder was given and the held-back feedback's nDCG@10
    at each weight tried (empty when nothing was held back: the encoder stays as trained)."""

    alpha: float = 1.0
    scores: dict[float, float] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"mixture_alpha": self.alpha, "mixture_scores": dict(self.scores)}


class _Mixer:
    """The starting and the fine-tuned weights, each read once, and a model to write mixtures
    of them with: ``choose_mixture`` writes one per weight it tries."""

    def __init__(self, start_model: str, tuned: Path) -> None:
        from sentence_transformers import SentenceTransformer

        from search.encoding import resolve_model

        self.tuned = Path(tuned)
        self.model = SentenceTransformer(str(tuned), device="cpu")
        self.trained = {name: value.clone() for name, value in self.model.state_dict().items()}
        self.start = SentenceTransformer(resolve_model(start_model), device="cpu").state_dict()
        if self.start.keys() != self.trained.keys():
            raise ValueError(f"{tuned} and {start_model} are not the same architecture")

    def write(self, alpha: float, output: Path) -> Path:
        self.model.load_state_dict(
            {
                name: (1 - alpha) * self.start[name] + alpha * value
                if value.is_floating_point()
                else value
                for name, value in self.trained.items()
            }
        )
        output = Path(output)
        self.model.save(str(output))
        for extra in self.tuned.iterdir():  # files the model does not write (the pairing file)
            if extra.is_file() and not (output / extra.name).exists():
                shutil.copy2(extra, output / extra.name)
        return output


def write_mixture(start_model: str, tuned: Path, alpha: float, output: Path) -> Path:
    """A model folder at ``output`` with ``tuned``'s files and the weights
    ``(1 - alpha) * start + alpha * tuned`` (integer buffers from ``tuned``). ``start_model``
    is what ``tuned`` was fine-tuned from (a folder, or a name ``resolve_model`` maps)."""
    return _Mixer(start_model, tuned).write(alpha, output)


def choose_mixture(
    champion: SearchIndex,
    start_model: str,
    tuned: Path,
    data: TrainingData,
    grid: Iterable[float] = MIX_GRID,
    log: Callable[[str], None] = print,
) -> Mixture:
    """Give the fine-tuned query encoder at ``tuned`` the mixing weight whose challenger
    (``build_challenger``: the champion's passage vectors, the choice memory, the fusion) has
    the best nDCG@10 on the held-back feedback, and rewrite ``tuned`` with it. Ties go to the
    larger weight. With no held-back questions the encoder stays as trained."""
    held_back = feedback_set(data)
    if not held_back.queries:
        return Mixture()
    tuned = Path(tuned)
    mixer = _Mixer(start_model, tuned)
    scores: dict[float, float] = {}
    for alpha in grid:
        folder = tuned if alpha == 1.0 else tuned.parent / f".{tuned.name}-mix-{alpha}"
        try:
            if folder != tuned:
                mixer.write(alpha, folder)
            challenger, _ = build_challenger(champion, folder, data)
            run = challenger.run(held_back.queries, k=100)
            scores[alpha] = round(held_back.evaluate(run).mean["ndcg_at_10"], 6)
        finally:
            if folder != tuned:
                shutil.rmtree(folder, ignore_errors=True)
    best = max(scores, key=lambda a: (scores[a], a))
    if best != 1.0:
        mixer.write(best, tuned)
    log(f"mixture: {best} x fine-tuned + {1 - best:.1f} x start (held-back nDCG@10 {scores})")
    return Mixture(best, scores)
