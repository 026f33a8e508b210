"""The aws CLI's shorthand syntax, read as text: `Key=env,Value=prod`, `[a,b]`, `{K=v}`.

Strategy: a recursive-descent reader over one string, production for
production the grammar of awscli's `awscli/shorthand.py` (`ShorthandParser`),
with the same character classes, quoting, escapes, whitespace rules and the
same backtracking in comma-separated values, so any text the aws CLI reads
reads the same here (`tests/test_shorthand.py` checks this against awscli
itself). The reader is purely syntactic: every leaf is a `str` (or a
`FileRef` for a `key@=file://...` value); giving the leaves types is the job
of `wire.params`, which knows the model.

    parameter      = keyval *("," keyval)
    keyval         = key ["@"] "=" values
    values         = explicit-list / hash-literal / csv-value   (empty: "")
    csv-value      = first-value *("," second-value)            (a single one is a scalar)
    explicit-list  = "[" [explicit-value *("," explicit-value)] "]"
    hash-literal   = "{" [keyval *("," keyval)] "}"
    first-value    = single-quoted / double-quoted / word

One extension, invisible to text the aws CLI accepts: a key may be quoted
(`{'my key'=v}`), since map keys (a DynamoDB attribute name, a tag key) can
hold any character while the aws CLI's keys are limited to `[A-Za-z0-9_.#/:-]`.
Errors are `ShorthandError`, one line, naming the offset and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from wire.errors import ParamError

_EOF = ""
_WHITESPACE = frozenset(" \t\n\r\x0b\x0c")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")

# awscli's character classes, verbatim: a word may not start with a quote,
# `,`, `=`, `[`, `]`, `{` or `}`; after its first character, a first value
# (`a=b`) may hold `=` and `[` but no `]`, `}`, quotes or `,`; a second
# value of a comma-separated list (`a,b`) may hold `]`, `[` and `}`... but no
# `=`, so `a,b=c` backtracks to read `b=c` as the next key-value pair. An
# escaped comma `\,` is part of a word.
_START_WORD = r"\!\#-&\(-\+\--\<\>-Z\\\\-z\u007c-\uffff"
_FIRST_FOLLOW = r"\s\!\#-&\(-\+\--\\\\\^-\|~-\uffff"
_SECOND_FOLLOW = r"\s\!\#-&\(-\+\--\<\>-\uffff"
_ESCAPED_COMMA = r"(\\,)"
_FIRST_WORD = re.compile(f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_FIRST_FOLLOW}])*")
_SECOND_WORD = re.compile(f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_SECOND_FOLLOW}])*")
#: quote -> the quoted text, a backslash escaping that quote.
_QUOTED = {"'": re.compile(r"'(?:\\'|[^'])*'"), '"': re.compile(r'"(?:\\"|[^"])*"')}
#: `key@=` prefixes -> whether the file is read as bytes (`fileb://`) or text (`file://`).
FILE_PREFIXES = {"fileb://": True, "file://": False}
#: Lists and structures nested in one another, at most: far beyond any AWS shape, far below the recursion limit.
MAX_DEPTH = 100


@dataclass(frozen=True, slots=True)
class FileRef:
    """A `key@=file://path` or `key@=fileb://path` value: the file's text or bytes, read at the edge."""

    path: str
    binary: bool


#: What the reader returns: text leaves, lists, key-value tables and file references.
Value = Union[str, FileRef, list["Value"], dict[str, "Value"]]


class ShorthandError(ParamError):
    """Text that is not shorthand syntax; the message is one line."""


class _Reader:
    """One pass over `text`; `index` only moves forward except in csv backtracking."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.file_value = False
        self.depth = 0  # lists and structures open at `index`

    # -- primitives ---------------------------------------------------------
    def current(self) -> str:
        return self.text[self.index] if self.index < len(self.text) else _EOF

    def at_eof(self) -> bool:
        return self.index >= len(self.text)

    def skip_whitespace(self) -> None:
        while self.index < len(self.text) and self.text[self.index] in _WHITESPACE:
            self.index += 1

    def fail(self, expected: str) -> ShorthandError:
        found = "end of text" if self.at_eof() else repr(self.text[self.index])
        return ShorthandError(f"shorthand syntax: expected {expected} at character {self.index + 1}, found {found}")

    def expect(self, char: str, skip_whitespace: bool = False) -> None:
        if skip_whitespace:
            self.skip_whitespace()
        if self.current() != char or self.at_eof():
            raise self.fail(repr(char))
        self.index += 1
        if skip_whitespace:
            self.skip_whitespace()

    def enter(self, opening: str) -> None:
        """Consume `opening` (`[` or `{`), one level deeper; a refusal past MAX_DEPTH, before recursion runs out."""
        if self.depth >= MAX_DEPTH:
            raise ShorthandError(f"shorthand syntax: more than {MAX_DEPTH} nested lists and structures "
                                 f"(character {self.index + 1})")
        self.depth += 1
        self.expect(opening, skip_whitespace=True)

    def leave(self, closing: str) -> None:
        self.expect(closing)
        self.depth -= 1

    def match(self, regex: re.Pattern[str]) -> str | None:
        found = regex.match(self.text, self.index)
        if found is None:
            return None
        self.index = found.end()
        return found.group()

    # -- productions --------------------------------------------------------
    def parameter(self) -> dict[str, Value]:
        params: dict[str, Value] = {}
        while True:
            start = self.index
            key, value = self.keyval()
            if key in params:
                # As in the aws CLI: most often a "," typed where a space was meant.
                self.index = start
                raise ShorthandError(f"shorthand syntax: key {key!r} given twice (character {start + 1})")
            params[key] = value
            if self.at_eof():
                return params
            self.expect(",", skip_whitespace=True)

    def key(self) -> str:
        quote = self.current()
        if quote in _QUOTED:
            return self.quoted(quote)
        start = self.index
        while self.index < len(self.text) and self.text[self.index] in _KEY_CHARS:
            self.index += 1
        return self.text[start:self.index]

    def key_and_equals(self) -> str:
        """A key and its `=` (or `@=`, which makes the value's `file://` words file references)."""
        key = self.key()
        self.skip_whitespace()
        self.file_value = self.current() == "@" and not self.at_eof()
        if self.file_value:
            self.index += 1
        self.expect("=", skip_whitespace=True)
        return key

    def keyval(self) -> tuple[str, Value]:
        key = self.key_and_equals()
        return key, self.values()

    def values(self) -> Value:
        if self.at_eof():
            return ""
        if self.current() == "[":
            return self.explicit_list()
        if self.current() == "{":
            return self.hash_literal()
        return self.csv_value()

    def csv_value(self) -> Value:
        first = self.first_value()
        self.skip_whitespace()
        items = [first]
        while self.current() == "," and not self.at_eof():
            comma = self.index
            self.expect(",", skip_whitespace=True)
            item_start = self.index
            try:
                item = self.second_value()
                self.skip_whitespace()
                if not self.at_eof() and self.current() != ",":
                    raise self.fail("','")
            except ShorthandError:
                # `a=b,c,d=e`: `d` was the next key, not a value. Step back to the last comma before the failure,
                # as the aws CLI does (`a=,,=` is {a: '', '': ''}); a quoted item, our quoted-key extension, may
                # hold commas of its own (`a=b,','=c`), so it steps back to the comma before it.
                if self.at_eof():
                    raise
                if self.text[item_start] in _QUOTED:
                    self.index = comma
                else:
                    while self.index >= 0 and self.text[self.index] != ",":
                        self.index -= 1
                break
            items.append(item)
        return first if len(items) == 1 else items

    def explicit_list(self) -> list[Value]:
        self.enter("[")
        items: list[Value] = []
        while self.current() != "]":
            items.append(self.explicit_value())
            self.skip_whitespace()
            if self.current() != "]":
                self.expect(",")
                self.skip_whitespace()
        self.leave("]")
        return items

    def explicit_value(self) -> Value:
        if self.current() == "[":
            return self.explicit_list()
        if self.current() == "{":
            return self.hash_literal()
        return self.first_value()

    def hash_literal(self) -> dict[str, Value]:
        self.enter("{")
        table: dict[str, Value] = {}
        while self.current() != "}":
            key = self.key_and_equals()
            value = self.explicit_value()
            self.skip_whitespace()
            if self.current() != "}":
                self.expect(",")
                self.skip_whitespace()
            table[key] = value
        self.leave("}")
        return table

    def first_value(self) -> Value:
        quote = self.current()
        if quote in _QUOTED and not self.at_eof():
            return self.leaf(self.quoted(quote))
        word = self.match(_FIRST_WORD)
        return self.leaf("" if word is None else word.replace("\\,", ",").rstrip())

    def second_value(self) -> Value:
        quote = self.current()
        if quote in _QUOTED and not self.at_eof():
            return self.leaf(self.quoted(quote))
        word = self.match(_SECOND_WORD)
        if word is None:
            raise self.fail("a value")
        return self.leaf(word.replace("\\,", ",").rstrip())

    def quoted(self, quote: str) -> str:
        text = self.match(_QUOTED[quote])
        if text is None:
            raise self.fail(f"a closing {quote}")
        return text[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\")

    def leaf(self, text: str) -> Value:
        """A scalar; after `key@=` a `file://` or `fileb://` one names a file (others stay text)."""
        if self.file_value:
            for prefix, binary in FILE_PREFIXES.items():
                if text.startswith(prefix):
                    return FileRef(text[len(prefix):], binary)
        return text


def parse_shorthand(text: str) -> dict[str, Value]:
    """`Key=v,Key2=[a,b]`, the aws CLI's form of a top-level structure, as a key-value table.

    Raises `ShorthandError` (one line) on text that is not shorthand.
    """
    return _Reader(text).parameter()


def parse_value(text: str) -> Value:
    """One shorthand value: `[a,b]`, `{K=v}`, `a,b` (a list) or a word, up to the end of `text`.

    Raises `ShorthandError` (one line) on text that is not shorthand or has text left over.
    """
    reader = _Reader(text)
    reader.skip_whitespace()
    value = reader.values()
    reader.skip_whitespace()
    if not reader.at_eof():
        raise reader.fail("',' between values or the end of the text")
    return value
