"""Message templates in Pinpoint's Handlebars dialect: compiled once into closures, rendered many times.

Differences from Handlebars.js, chosen to match Pinpoint: only Pinpoint's documented helpers exist (any other
name, `unless`, `with` and `lookup` included, is an error naming it); a bare name not found in the current
context is looked up in the enclosing ones; a list of one item renders as that item; `DefaultSubstitutions`
fill in variables that are missing or empty. Inline partials are visible to the whole template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pinfold.templating.helpers import HELPERS, HelperError, text_of
from pinfold.templating.syntax import TemplateError, _Block, _Call, _Literal, _Partial, _Path, _Source, parse

__all__ = ["Template", "TemplateError", "compile_template", "render"]

MAX_PARTIAL_DEPTH = 32
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;", "=": "&#x3D;"}
)
_NEEDS_ESCAPE = re.compile(r"[&<>\"'`=]").search  # most values need none; checking first is ~5x faster


# --- compiler: the tree to closures -------------------------------------------------------------------------


class _Run:
    """One render: the data, the defaults, whether to HTML-escape, and the instant {{now}} shows."""

    __slots__ = ("root", "defaults", "escape", "depth", "_now")

    def __init__(self, root: Any, defaults: dict | None, escape: bool, now: datetime | None) -> None:
        self.root, self.defaults, self.escape, self.depth, self._now = root, defaults, escape, 0, now

    @property
    def now(self) -> datetime:
        if self._now is None:
            self._now = datetime.now(UTC)
        return self._now


class _Scope:
    """A context on the stack: `ctx` is `this`, `parent` the enclosing scope, `frame` the @data."""

    __slots__ = ("ctx", "parent", "frame", "run")

    def __init__(self, ctx: Any, parent: _Scope | None, frame: dict | None, run: _Run) -> None:
        self.ctx, self.parent, self.frame, self.run = ctx, parent, frame, run


_SAME = object()


class _Invocation:
    """What a helper sees of its call: the block to render (if any) and the render's clock."""

    __slots__ = ("scope", "program", "inverse_program")

    def __init__(self, scope: _Scope, program: Any, inverse_program: Any) -> None:
        self.scope, self.program, self.inverse_program = scope, program, inverse_program

    @property
    def is_block(self) -> bool:
        return self.program is not None

    @property
    def now(self) -> datetime:
        return self.scope.run.now

    def fn(self, context: Any = _SAME, frame: dict | None = None) -> str:
        scope = self.scope
        if context is not _SAME:
            scope = _Scope(context, scope, frame if frame is not None else scope.frame, scope.run)
        return self.program(scope)

    def inverse(self) -> str:
        return self.inverse_program(self.scope) if self.inverse_program is not None else ""


def _walk(value: Any, steps: tuple) -> Any:
    for name, index in steps:
        if value.__class__ is dict:
            value = value.get(name)
        elif index is not None and isinstance(value, (list, tuple)):
            value = value[index] if index < len(value) else None
        elif isinstance(value, Mapping):
            value = value.get(name)
        else:
            return None
        if value is None:
            return None
    return value


def _empty(value: Any) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, (list, tuple)):
        return not value or (len(value) == 1 and (value[0] is None or value[0] == ""))
    return False


def _default_keys(path: _Path) -> tuple[str, ...]:
    """The DefaultSubstitutions keys that may name this path: as written, dotted, with or without a last .[0]."""
    written, segments = path.text, list(path.segments)
    if path.data:
        written, segments = written.removeprefix("@root").lstrip("./"), segments[1:]
    written = re.sub(r"^(?:this[./]|\./)", "", written)
    trimmed = list(segments)
    while trimmed and trimmed[-1].isdigit():
        trimmed.pop()
    keys = (written, re.sub(r"(?:[./](?:\[\d+\]|\d+))+$", "", written), ".".join(segments), ".".join(trimmed))
    return tuple(key for key in dict.fromkeys(keys) if key)


def _join(parts: list) -> Callable[[_Scope], str]:
    """One program: fixed text stays in place, the dynamic parts fill their slots."""
    if not parts:
        return lambda scope: ""
    if len(parts) == 1:
        only = parts[0]
        return (lambda scope: only) if isinstance(only, str) else only
    static = [part if isinstance(part, str) else "" for part in parts]
    dynamic = tuple((index, part) for index, part in enumerate(parts) if not isinstance(part, str))

    def render(scope: _Scope) -> str:
        out = static.copy()
        for index, part in dynamic:
            out[index] = part(scope)
        return "".join(out)

    return render


class _Compiler:
    """Turns the node tree into closures, noting top-level variables and partial references."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.partials: dict[str, Callable[[_Scope], str]] = {}
        self.references: list[tuple[str, int]] = []
        self.variables: set[str] = set()

    def program(self, nodes: list, depth: int) -> Callable[[_Scope], str]:
        parts: list = []
        for node in nodes:
            part = self.node(node, depth)
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            else:
                parts.append(part)
        return _join(parts)

    def node(self, node: Any, depth: int) -> str | Callable[[_Scope], str]:
        if isinstance(node, str):
            return node
        if isinstance(node, _Block):
            inner = depth + 1 if node.call.name == "each" else depth  # each changes `this`
            program = self.program(node.program, inner)
            inverse = self.program(node.inverse, depth) if node.inverse is not None else None
            return self.call(node.call, depth, program, inverse)
        if isinstance(node, _Partial):
            return self.partial(node, depth)
        value = self.expression(node.expression, depth)
        if node.raw:
            return lambda scope: v if (v := value(scope)).__class__ is str else text_of(v)

        def escaped(scope: _Scope) -> str:
            text = value(scope)
            if text.__class__ is not str:
                text = text_of(text)
            return text.translate(_ESCAPES) if scope.run.escape and _NEEDS_ESCAPE(text) else text

        return escaped

    def expression(self, expression: Any, depth: int, *, bareword: bool = False) -> Callable[[_Scope], Any]:
        if isinstance(expression, _Literal):
            constant = expression.value
            return lambda scope: constant
        if isinstance(expression, _Call):
            return self.call(expression, depth)
        lookup = self.path(expression, depth, note=not bareword)
        if not bareword or expression.data:
            return lookup
        word = expression.text  # tz=America/Los_Angeles names a zone, not a variable

        def or_word(scope: _Scope) -> Any:
            value = lookup(scope)
            return word if value is None else value

        return or_word

    def path(self, path: _Path, depth: int, *, note: bool = True) -> Callable[[_Scope], Any]:
        # isascii: '²' is isdigit() but not an int(); such a segment is a key like any other word
        steps = tuple((name, int(name) if name.isascii() and name.isdigit() else None) for name in path.segments)
        if note:
            self._note(path, depth)
        if path.data:
            return self._data_path(path.segments[0], steps[1:])
        if path.scoped:
            return self._scoped_path(path.parents, steps)
        keys = _default_keys(path)
        first, rest, head = steps[:1], steps[1:], steps[0][0]

        def lookup(scope: _Scope) -> Any:
            at = scope
            while True:  # a name not in this context is looked for in the enclosing ones
                ctx = at.ctx
                value = ctx.get(head) if ctx.__class__ is dict else _walk(ctx, first)
                if value is not None or (at := at.parent) is None:
                    break
            if rest and value is not None:
                value = value.get(rest[0][0]) if len(rest) == 1 and value.__class__ is dict else _walk(value, rest)
            defaults = scope.run.defaults
            if defaults and not (value.__class__ is str and value) and _empty(value):
                for key in keys:
                    if key in defaults:
                        return defaults[key]
            return value

        return lookup

    def _data_path(self, name: str, rest: tuple) -> Callable[[_Scope], Any]:
        if name == "root":
            return lambda scope: _walk(scope.run.root, rest)
        return lambda scope: _walk(scope.frame.get(name), rest) if scope.frame is not None else None

    def _scoped_path(self, parents: int, steps: tuple) -> Callable[[_Scope], Any]:
        def lookup(scope: _Scope) -> Any:
            for _ in range(parents):
                scope = scope.parent
                if scope is None:
                    return None
            return _walk(scope.ctx, steps)

        return lookup

    def _note(self, path: _Path, depth: int) -> None:
        """Top-level variables: paths into the data given to render, without a trailing list index."""
        segments = list(path.segments)
        if path.data:
            if segments[0] != "root":
                return
            segments = segments[1:]
        elif depth - path.parents != 0:
            return
        while segments and segments[-1].isdigit():
            segments.pop()
        if segments:
            self.variables.add(".".join(segments))

    def call(self, call: _Call, depth: int, program: Any = None, inverse: Any = None) -> Callable[[_Scope], Any]:
        spec, name, where = HELPERS[call.name], call.name, self.source.where(call.offset)
        count = len(call.params)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            most = "or more" if spec.max_args is None else f"to {spec.max_args}"
            wanted = str(spec.min_args) if spec.max_args == spec.min_args else f"{spec.min_args} {most}"
            raise self.source.error(call.offset, f"'{name}' takes {wanted} argument(s), got {count}")
        params = [self.expression(p, depth, bareword=i in spec.barewords) for i, p in enumerate(call.params)]
        named = [(key, self.expression(v, depth, bareword=key in spec.barewords)) for key, v in call.hash.items()]
        helper = spec.fn

        def invoke(scope: _Scope) -> Any:
            args = [param(scope) for param in params]
            hash = {key: value(scope) for key, value in named} if named else {}
            try:
                return helper(args, hash, _Invocation(scope, program, inverse))
            except (TemplateError, RecursionError):
                raise
            except HelperError as exc:
                raise TemplateError(f"Template error at {where}: {name}: {exc}") from None
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise TemplateError(f"Template error at {where}: {name} failed: {exc}") from None

        return invoke

    def partial(self, node: _Partial, depth: int) -> Callable[[_Scope], str]:
        self.references.append((node.name, node.offset))
        partials, name, source, offset = self.partials, node.name, self.source, node.offset
        context = self.expression(node.context, depth) if node.context is not None else None
        named = [(key, self.expression(value, depth)) for key, value in node.hash.items()]

        def render(scope: _Scope) -> str:
            run = scope.run
            if run.depth >= MAX_PARTIAL_DEPTH:
                raise source.error(offset, f"the partial '{name}' nests more than {MAX_PARTIAL_DEPTH} deep")
            if context is not None:
                scope = _Scope(context(scope), scope, scope.frame, run)
            if named:
                base = scope.ctx if isinstance(scope.ctx, dict) else {}
                scope = _Scope({**base, **{key: value(scope) for key, value in named}}, scope, scope.frame, run)
            run.depth += 1
            try:
                return partials[name](scope)
            finally:
                run.depth -= 1

        return render


# --- public API ---------------------------------------------------------------------------------------------


class Template:
    """A compiled template; `variables` are the top-level dotted paths it reads (for validation and UIs)."""

    __slots__ = ("source", "variables", "_program")

    def __init__(self, source: str, program: Callable[[_Scope], str], variables: frozenset[str]) -> None:
        self.source, self._program, self.variables = source, program, variables

    def render(self, data: dict, defaults: dict | None = None, *, escape: bool = True,
               now: datetime | None = None) -> str:
        """The text for one recipient; `defaults` maps a variable as written to its DefaultSubstitutions text."""
        data = {} if data is None else data
        run = _Run(data, defaults or None, escape, now)
        try:
            return self._program(_Scope(data, None, None, run))
        except RecursionError:
            raise TemplateError("Template error: the template nests too deeply to render") from None


@lru_cache(maxsize=256)
def compile_template(source: str) -> Template:
    """Parse and compile once (cached by source); raises TemplateError naming the line and column."""
    if not isinstance(source, str):
        raise TemplateError("Template error: a template is text")
    text, nodes, bodies = parse(source)
    compiler = _Compiler(text)
    program = compiler.program(nodes, 0)
    for name, body in bodies.items():
        compiler.partials[name] = compiler.program(body, 0)
    for name, offset in compiler.references:
        if name not in compiler.partials:
            raise text.error(offset, f"the partial '{name}' is not defined with {{{{#* inline \"{name}\"}}}}")
    return Template(source, program, frozenset(compiler.variables))


def render(source: str, data: dict, defaults: dict | None = None, *, escape: bool = True,
           now: datetime | None = None) -> str:
    """Compile (cached) and render in one call."""
    return compile_template(source).render(data, defaults, escape=escape, now=now)
