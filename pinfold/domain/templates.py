"""Message templates in Pinpoint's Handlebars dialect: compiled once into closures, rendered many times.

Differences from Handlebars.js, chosen to match Pinpoint: only Pinpoint's documented helpers exist (any other
name, `unless`, `with` and `lookup` included, is an error naming it); a bare name not found in the current
context is looked up in the enclosing ones; a list of one item renders as that item; `DefaultSubstitutions`
fill in variables that are missing or empty. Inline partials are visible to the whole template.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pinfold.domain.errors import InvalidInput
from pinfold.domain.template_helpers import HELPERS, HelperError, text_of

MAX_PARTIAL_DEPTH = 32
MAX_NESTING = 64
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;", "=": "&#x3D;"}
)
_NEEDS_ESCAPE = re.compile(r"[&<>\"'`=]").search  # most values need none; checking first is ~5x faster
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": None}
_ID = r"[^\s!\"#%-,./;->@\[-\^`{-~]+"
_ID_RE = re.compile(_ID)
_SEGMENT_LITERAL = re.compile(r"\[([^\]]*)\]")
_HASH_KEY = re.compile(rf"({_ID})\s*=")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?=[~}\s)])")
_STRING = re.compile(r'"((?:\\.|[^"\\])*)"|\'((?:\\.|[^\'\\])*)\'')
_SPACE = re.compile(r"\s*")
_ELSE = re.compile(r"else(?=[\s~}])")
_STANDALONE = frozenset({"open", "inline", "close", "else", "caret", "comment", "partial"})


class TemplateError(InvalidInput):
    """A template that cannot be compiled or rendered; the message names the line/column or the helper."""


# --- the parse tree -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Path:
    text: str  # as written, e.g. User.UserAttributes.[Last Name].[0]
    segments: tuple[str, ...]
    data: bool = False  # @index, @root.x
    parents: int = 0  # ../
    scoped: bool = False  # this or ./: no lookup in enclosing contexts


@dataclass(slots=True)
class _Literal:
    value: Any


@dataclass(slots=True)
class _Call:
    name: str
    params: list
    hash: dict
    offset: int


@dataclass(slots=True)
class _Text:
    value: str
    line_start: bool


@dataclass(slots=True)
class _Tag:
    kind: str  # mustache raw open inline close else caret comment partial
    offset: int
    strip_left: bool
    strip_right: bool = False
    tokens: list = field(default_factory=list)


@dataclass(slots=True)
class _Block:
    call: _Call
    program: list = field(default_factory=list)
    inverse: list | None = None


@dataclass(slots=True)
class _Partial:
    name: str
    context: Any
    hash: dict
    offset: int


# --- tokenizer ----------------------------------------------------------------------------------------------


class _Source:
    """The template text and a way to name a position in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines = [i for i, char in enumerate(text) if char == "\n"]

    def where(self, offset: int) -> str:
        line = bisect.bisect_left(self._lines, offset)
        column = offset - (self._lines[line - 1] + 1 if line else 0)
        return f"line {line + 1}, column {column + 1}"

    def error(self, offset: int, message: str) -> TemplateError:
        return TemplateError(f"Template error at {self.where(offset)}: {message}")


def _tokenize(source: _Source) -> list:
    """Text and tags in order; \\{{ is literal text up to the next {{, \\\\{{ a backslash and then a tag."""
    text, out, pieces, position, piece_start = source.text, [], [], 0, 0
    while (start := text.find("{{", position)) >= 0:
        backslash = start > position and text[start - 1] == "\\"
        if backslash and not (start - 1 > position and text[start - 2] == "\\"):
            following = text.find("{{", start + 2)
            if following < 0:
                following = len(text)
            elif text[following - 1] == "\\":  # the next mustache is escaped too
                following -= 1
            pieces += [text[position : start - 1], text[start:following]]
            position = following
            continue
        pieces.append(text[position : start - 1] if backslash else text[position:start])
        if "".join(pieces):
            out.append(_Text("".join(pieces), piece_start == 0))
        tag, position = _read_tag(source, start)
        out.append(tag)
        pieces, piece_start = [], position
    pieces.append(text[position:])
    if "".join(pieces):
        out.append(_Text("".join(pieces), piece_start == 0))
    return out


_SIGILS = (("#*", "inline"), ("#>", None), ("#", "open"), ("/", "close"), ("^", "caret"), (">", "partial"),
           ("&", "raw"), ("{", None))


def _read_tag(source: _Source, start: int) -> tuple[_Tag, int]:
    text, at = source.text, start + 2
    triple = text.startswith("{", at)
    at += triple
    strip_left = text.startswith("~", at)
    at += strip_left
    if not triple and text.startswith("!", at):
        long_form = text.startswith("!--", at)
        end = re.compile(r"--(~?)}}" if long_form else r"(~?)}}").search(text, at)
        if end is None:
            raise source.error(start, "the comment is never closed")
        return _Tag("comment", start, strip_left, bool(end[1])), end.end()
    kind = "raw" if triple else "mustache"
    if not triple:
        sigil = next(((mark, name) for mark, name in _SIGILS if text.startswith(mark, at)), None)
        if sigil is not None and sigil[1] is None:
            raise source.error(start, f"'{{{{{sigil[0]}' (partial blocks and raw blocks) is not supported")
        if sigil is not None:
            kind, at = sigil[1], at + len(sigil[0])
        elif keyword := _ELSE.match(text, _SPACE.match(text, at).end()):
            kind, at = "else", keyword.end()
    tag = _Tag(kind, start, strip_left)
    tag.tokens, at, tag.strip_right = _lex(source, at, start, "}}}" if triple else "}}")
    return tag, at


def _lex(source: _Source, at: int, start: int, close: str) -> tuple[list, int, bool]:
    """The tokens of one tag's expression: ("(" | ")" | "lit" | "key" | "path", value, offset)."""
    text, tokens = source.text, []
    while True:
        at = _SPACE.match(text, at).end()
        if at >= len(text):
            raise source.error(start, f"the tag is never closed with '{close}'")
        for ending, strip in (("~" + close, True), (close, False)):
            if text.startswith(ending, at):
                return tokens, at + len(ending), strip
        char = text[at]
        if char in "()":
            tokens.append((char, None, at))
            at += 1
        elif found := _STRING.match(text, at):
            raw = found[1] if found[1] is not None else found[2]
            tokens.append(("lit", re.sub(r"\\(.)", r"\1", raw), at))
            at = found.end()
        elif found := _NUMBER.match(text, at):
            tokens.append(("lit", float(found[0]) if "." in found[0] else int(found[0]), at))
            at = found.end()
        elif found := _HASH_KEY.match(text, at):
            tokens.append(("key", found[1], at))
            at = found.end()
        else:
            path, end = _lex_path(source, at)
            simple = not (path.data or path.parents or path.scoped) and len(path.segments) == 1
            if simple and path.text in _KEYWORDS:
                tokens.append(("lit", _KEYWORDS[path.text], at))
            else:
                tokens.append(("path", path, at))
            at = end


def _segment(text: str, at: int) -> tuple[str, int] | None:
    found = _SEGMENT_LITERAL.match(text, at) or _ID_RE.match(text, at)
    if found is None:
        return None
    return (found[1] if found[0].startswith("[") else found[0]), found.end()


def _lex_path(source: _Source, start: int) -> tuple[_Path, int]:
    """this, ., .., ./a, ../a, a.b/c, a.[Last Name].[0], @index, @root.a."""
    text, at = source.text, start
    path = _Path("", (), data=text.startswith("@", at))
    at += path.data
    while text.startswith(("../", "./"), at):
        path.parents += text.startswith("../", at)
        path.scoped = True
        at += 3 if text.startswith("../", at) else 2
    segments = []
    if text.startswith("..", at) and _segment(text, at + 2) is None:
        path.parents, path.scoped, at = path.parents + 1, True, at + 2
    elif text.startswith(".", at) and _segment(text, at + 1) is None:
        path.scoped, at = True, at + 1
    else:
        first = _segment(text, at)
        if first is None:
            raise source.error(start, f"unexpected {text[at]!r} in the tag")
        if first[0] == "this" and text[at] != "[" and not path.data:
            path.scoped = True
        else:
            segments.append(first[0])
        at = first[1]
        while at < len(text) and text[at] in "./" and (following := _segment(text, at + 1)) is not None:
            segments.append(following[0])
            at = following[1]
    if path.data and (path.parents or not segments):
        raise source.error(start, "only @index, @first, @last, @key and @root.<path> are supported")
    path.text, path.segments = text[start:at], tuple(segments)
    return path, at


# --- whitespace: standalone lines and ~ ---------------------------------------------------------------------


def _blank_before(token: Any) -> bool:
    if token is None:
        return True
    if not isinstance(token, _Text):
        return False
    cut = token.value.rfind("\n")
    return token.value[cut + 1 :].strip(" \t") == "" and (cut >= 0 or token.line_start)


def _blank_after(token: Any, last: bool) -> bool:
    if token is None:
        return True
    if not isinstance(token, _Text):
        return False
    head, newline, _ = token.value.partition("\n")
    return head.strip(" \t\r") == "" and (bool(newline) or last)


def _trim_whitespace(tokens: list) -> None:
    """A block, else, comment or partial tag alone on its line takes the line with it; ~ strips whitespace."""
    for index, tag in enumerate(tokens):
        if not isinstance(tag, _Tag):
            continue
        before = tokens[index - 1] if index > 0 else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if tag.kind in _STANDALONE and _blank_before(before) and _blank_after(after, index + 2 >= len(tokens)):
            if before is not None:
                before.value = before.value[: before.value.rfind("\n") + 1]
            if after is not None:
                after.value = after.value.partition("\n")[2]
                after.line_start = True
        if tag.strip_left and isinstance(before, _Text):
            before.value = before.value.rstrip()
        if tag.strip_right and isinstance(after, _Text):
            after.value = after.value.lstrip()


# --- parser: tags to a tree ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Mustache:
    expression: Any
    raw: bool


@dataclass(slots=True)
class _Frame:
    tag: _Tag
    node: Any  # the _Block being filled, or an inline partial's name
    body: list
    chained: bool  # an {{else if ...}} block, closed by its parent's closing tag


def _helper_name(path: _Path) -> str | None:
    simple = not (path.data or path.parents or path.scoped) and len(path.segments) == 1
    return path.segments[0] if simple and path.text == path.segments[0] else None


def _argument(source: _Source, tokens: list, index: int, depth: int) -> tuple[Any, int]:
    if index >= len(tokens):
        raise source.error(tokens[-1][2], "a value is missing after '='")
    kind, value, offset = tokens[index]
    if kind == "lit":
        return _Literal(value), index + 1
    if kind == "path":
        return value, index + 1
    if kind != "(":
        raise source.error(offset, f"unexpected {'hash argument' if kind == 'key' else repr(kind)}")
    if depth >= MAX_NESTING:
        raise source.error(offset, "subexpressions nest too deeply")
    head = tokens[index + 1] if index + 1 < len(tokens) else None
    if head is None or head[0] != "path":
        raise source.error(offset, "a subexpression starts with a helper name: (helper args...)")
    name = _helper_name(head[1])
    if name not in HELPERS:
        raise source.error(head[2], f"unknown helper '{head[1].text}'")
    params, hash, end = _arguments(source, tokens, index + 2, depth + 1)
    if end >= len(tokens):
        raise source.error(offset, "the subexpression is never closed with ')'")
    return _Call(name, params, hash, head[2]), end + 1


def _arguments(source: _Source, tokens: list, index: int, depth: int) -> tuple[list, dict, int]:
    """Positional then hash arguments, up to a ')' or the end of the tag."""
    params, hash = [], {}
    while index < len(tokens) and tokens[index][0] != ")":
        kind, value, offset = tokens[index]
        if kind == "key":
            hash[value], index = _argument(source, tokens, index + 1, depth)
            continue
        if hash:
            raise source.error(offset, "positional arguments come before hash arguments (name=value)")
        argument, index = _argument(source, tokens, index, depth)
        params.append(argument)
    return params, hash, index


def _expression(source: _Source, tag: _Tag) -> Any:
    """A tag's content: a helper call, a variable, or a literal."""
    tokens = tag.tokens
    if not tokens:
        raise source.error(tag.offset, "the tag is empty")
    head = tokens[0]
    params, hash, end = _arguments(source, tokens, 1, 0)
    if end != len(tokens):
        raise source.error(tokens[end][2], "unexpected ')'")
    if head[0] == "lit" and not params and not hash:
        return _Literal(head[1])
    if head[0] != "path":
        raise source.error(head[2], "a tag starts with a helper name or a variable")
    name = _helper_name(head[1])
    if name in HELPERS:
        return _Call(name, params, hash, head[2])
    if params or hash or tag.kind in ("open", "else"):
        raise source.error(head[2], f"unknown helper '{head[1].text}'")
    return head[1]


def _block_call(source: _Source, tag: _Tag) -> _Call:
    expression = _expression(source, tag)
    if not isinstance(expression, _Call):
        raise source.error(tag.offset, "a block starts with a helper name: {{#helper args...}}")
    if not HELPERS[expression.name].block:
        raise source.error(expression.offset, f"'{expression.name}' cannot be used as a block")
    return expression


def _partial(source: _Source, tag: _Tag) -> _Partial:
    tokens = tag.tokens
    kind, value, offset = tokens[0] if tokens else (None, None, tag.offset)
    name = value.text if kind == "path" else value if kind == "lit" and isinstance(value, str) else None
    if not name:
        raise source.error(tag.offset, "a partial needs a name: {{> name}}")
    params, hash, end = _arguments(source, tokens, 1, 0)
    if end != len(tokens) or len(params) > 1:
        raise source.error(offset, "a partial takes at most one context argument")
    return _Partial(name, params[0] if params else None, hash, offset)


def _inline_name(source: _Source, tag: _Tag) -> str:
    tokens = tag.tokens
    if len(tokens) == 2 and tokens[0][0] == "path" and tokens[0][1].text == "inline" and tokens[1][0] == "lit":
        if isinstance(tokens[1][1], str) and tokens[1][1]:
            return tokens[1][1]
    raise source.error(tag.offset, 'the only decorator is an inline partial: {{#* inline "name"}}')


def _open_else(source: _Source, tag: _Tag, frames: list[_Frame]) -> list:
    if tag.kind == "caret" and tag.tokens:
        raise source.error(tag.offset, "inverted sections ({{^name}}) are not supported; use {{#if}}...{{else}}")
    if not frames or not isinstance(frames[-1].node, _Block):
        raise source.error(tag.offset, "{{else}} outside a block")
    frame, block = frames[-1], frames[-1].node
    if block.inverse is not None:
        raise source.error(tag.offset, "a block has only one {{else}}")
    block.inverse = []
    if not tag.tokens:
        frame.body = block.inverse
        return block.inverse
    chained = _Block(_block_call(source, tag))  # {{else if x}}: a block inside the {{else}}
    block.inverse.append(chained)
    frames.append(_Frame(tag, chained, chained.program, True))
    return chained.program


def _close(source: _Source, tag: _Tag, frames: list[_Frame], partials: dict) -> None:
    tokens = tag.tokens
    if len(tokens) != 1 or tokens[0][0] != "path":
        raise source.error(tag.offset, "a closing tag names its block: {{/name}}")
    name = tokens[0][1].text
    while frames and frames[-1].chained:
        frames.pop()
    if not frames:
        raise source.error(tag.offset, f"'{{{{/{name}}}}}' closes no block")
    frame = frames.pop()
    opened = frame.node.call.name if isinstance(frame.node, _Block) else "inline"
    if name != opened:
        raise source.error(tag.offset, f"'{{{{/{name}}}}}' does not close '{{{{#{opened}}}}}' "
                                       f"opened at {source.where(frame.tag.offset)}")
    if opened == "inline":
        if frame.node in partials:
            raise source.error(frame.tag.offset, f"the inline partial '{frame.node}' is defined twice")
        partials[frame.node] = frame.body


def _build(source: _Source, tokens: list) -> tuple[list, dict[str, list]]:
    """The node tree (text, _Mustache, _Block, _Partial) and the inline partials' bodies by name."""
    root: list = []
    partials: dict[str, list] = {}
    frames: list[_Frame] = []
    for token in tokens:
        target = frames[-1].body if frames else root
        if isinstance(token, _Text):
            if token.value:
                target.append(token.value)
        elif token.kind in ("mustache", "raw"):
            expression = _expression(source, token)
            if isinstance(expression, _Call) and not HELPERS[expression.name].inline:
                name = expression.name
                raise source.error(token.offset, f"'{name}' is a block helper: {{{{#{name} ...}}}}...{{{{/{name}}}}}")
            target.append(_Mustache(expression, token.kind == "raw"))
        elif token.kind == "partial":
            target.append(_partial(source, token))
        elif token.kind == "open":
            block = _Block(_block_call(source, token))
            target.append(block)
            frames.append(_Frame(token, block, block.program, False))
        elif token.kind == "inline":
            frames.append(_Frame(token, _inline_name(source, token), [], False))
        elif token.kind in ("else", "caret"):
            _open_else(source, token, frames)
        elif token.kind == "close":
            _close(source, token, frames, partials)
        if len(frames) > MAX_NESTING:
            raise source.error(token.offset, "blocks nest too deeply")
    if frames:
        opener = next(frame for frame in reversed(frames) if not frame.chained)
        name = opener.node.call.name if isinstance(opener.node, _Block) else "inline"
        raise source.error(opener.tag.offset, f"'{{{{#{name}}}}}' is never closed with '{{{{/{name}}}}}'")
    return root, partials


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
        steps = tuple((name, int(name) if name.isdigit() else None) for name in path.segments)
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
    text = _Source(source)
    tokens = _tokenize(text)
    _trim_whitespace(tokens)
    nodes, bodies = _build(text, tokens)
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
