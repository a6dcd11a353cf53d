"""Map an HTTP request to the botocore operation it invokes, using each model's request templates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel

from pinfold.api.protocol.errors import UnknownOperation


@dataclass(frozen=True)
class _Template:
    """One compiled requestUri: literal segments by position, labels by position, optional greedy tail."""

    operation: OperationModel
    length: int  # segments before the greedy label (the greedy one included)
    literals: tuple[tuple[int, str], ...]
    labels: tuple[tuple[int, str], ...]
    greedy: str | None  # name of a trailing {label+}, which swallows the remaining segments
    query: tuple[tuple[str, str | None], ...]  # literal query part: (key, required value or None)

    @property
    def priority(self) -> tuple[int, int]:
        return (-len(self.literals), -len(self.query))

    def match(self, segments: list[str], query: Mapping[str, list[str]]) -> dict[str, str] | None:
        """Decoded label values when the path and query fit this template, else None."""
        if len(segments) < self.length:
            return None
        for index, literal in self.literals:
            if segments[index] != literal:
                return None
        for key, value in self.query:
            present = query.get(key)
            if present is None or (value is not None and value not in present):
                return None
        labels: dict[str, str] = {}
        for index, name in self.labels:
            if not segments[index]:
                return None
            labels[name] = unquote(segments[index])
        if self.greedy is not None:
            tail = segments[self.length - 1 :]
            if not tail or not all(tail):
                return None
            labels[self.greedy] = unquote("/".join(tail))
        return labels


def _compile(operation: OperationModel) -> _Template:
    path, _, raw_query = operation.http["requestUri"].partition("?")
    literals, labels, greedy = [], [], None
    segments = path.strip("/").split("/") if path.strip("/") else []
    for index, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            if name.endswith("+"):
                greedy = name[:-1]
            else:
                labels.append((index, name))
        else:
            literals.append((index, segment))
    query = []
    for part in filter(None, raw_query.split("&")):
        key, sep, value = part.partition("=")
        query.append((key, value if sep else None))
    return _Template(operation, len(segments), tuple(literals), tuple(labels), greedy, tuple(query))


def _split(raw_path: str) -> list[str]:
    stripped = raw_path.strip("/")
    return stripped.split("/") if stripped else []


class Router:
    """Finds the operation for a request; the index is built once so matching does no compiling.

    `older` are operations bound as older models bound them (see older_bindings.py); they route too.
    """

    def __init__(self, model: ServiceModel, older: Iterable[OperationModel] = ()) -> None:
        self.model = model
        self.target_prefix: str | None = model.metadata.get("targetPrefix")
        self._json = model.protocol == "json"
        self._operation_names = frozenset(model.operation_names)
        # (method, segment count) -> candidate templates, best first; greedy ones apply to any longer path.
        self._fixed: dict[tuple[str, int], list[_Template]] = {}
        self._greedy: dict[str, list[_Template]] = {}
        if not self._json:
            self._build_index([*map(model.operation_model, model.operation_names), *older])

    def _build_index(self, operations: list[OperationModel]) -> None:
        for operation in operations:
            template = _compile(operation)
            method = template.operation.http["method"].upper()
            if template.greedy is None:
                self._fixed.setdefault((method, template.length), []).append(template)
            else:
                self._greedy.setdefault(method, []).append(template)
        for method, greedy in self._greedy.items():
            for (fixed_method, length), bucket in self._fixed.items():
                if fixed_method == method:
                    bucket.extend(t for t in greedy if t.length <= length)
        for bucket in [*self._fixed.values(), *self._greedy.values()]:
            bucket.sort(key=lambda t: t.priority)

    def match(
        self,
        method: str,
        raw_path: str,
        query: Mapping[str, list[str]],
        target: str | None,
    ) -> tuple[OperationModel, dict[str, str]]:
        """Return the operation and its decoded URI labels; raise UnknownOperation when nothing matches."""
        if self._json:
            return self._match_target(method, target), {}
        segments = _split(raw_path)
        found = self._match_path(method.upper(), segments, query)
        if found is None:
            raise UnknownOperation(f"No operation matches {method.upper()} {raw_path}")
        return found

    def _match_path(
        self, method: str, segments: list[str], query: Mapping[str, list[str]]
    ) -> tuple[OperationModel, dict[str, str]] | None:
        candidates = self._fixed.get((method, len(segments)))
        if candidates is None:
            candidates = self._greedy.get(method, ())
        for template in candidates:
            labels = template.match(segments, query)
            if labels is not None:
                return template.operation, labels
        return None

    def _match_target(self, method: str, target: str | None) -> OperationModel:
        if not target:
            raise UnknownOperation("Missing X-Amz-Target header")
        prefix, _, name = target.partition(".")
        if prefix != self.target_prefix or name not in self._operation_names:
            raise UnknownOperation(f"Unknown operation {target}")
        if method.upper() != "POST":
            raise UnknownOperation(f"{name} must be invoked with POST")
        return self.model.operation_model(name)
