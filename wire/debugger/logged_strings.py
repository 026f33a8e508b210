"""What the client's logged strings prove: the canonical request and string-to-sign it says it signed.

Strategy: clients that log them (aws --debug, awscurl -v) are compared with the
server's strings: equal means only the key differs; different lines name the
change. Without the server's strings they are compared with the request as
captured: what the client signed against what it sent.
"""

from __future__ import annotations

import re
from dataclasses import replace

from wire.debugger.causes import Cause
from wire.debugger.complaint_rules import may_be_mismatch
from wire.debugger.diagnosis_context import Context, key_label, sent_token
from wire.debugger.string_diff import diff_causes, sts_causes


def logged_causes(ctx: Context) -> tuple[list[Cause], list[str]]:
    """What the client's own strings (aws --debug, awscurl -v) prove. Equal to the server's: the server computed
    exactly what the client signed, so only the key differs. Different: the differing lines name the change.
    With no server strings they are compared with the capture: what the client signed against what it sent."""
    logged_c, logged_s = ctx.logged_canonical, ctx.logged_sts
    if ctx.params is None or (logged_c is None and logged_s is None) or ctx.complaint is None or \
            not may_be_mismatch(ctx.complaint):
        return [], []
    theirs_c, theirs_s = ctx.theirs_canonical, ctx.theirs_sts
    if theirs_c is None and theirs_s is None:
        theirs_c, theirs_s, whose = ctx.ours_canonical, ctx.ours_sts, "the request as captured"
    else:
        whose = "the server's"
    if (logged_c is None or theirs_c is None or logged_c == theirs_c) and \
            (logged_s is None or theirs_s is None or logged_s == theirs_s):
        if whose != "the server's":
            return [], ["the canonical request and string-to-sign the client logged are those of the request as "
                        "captured: the client signed what it sent"]
        token = " (or the session token is not the one issued with this key)" if sent_token(ctx.sent) else ""
        return [Cause("secret", f"the client ({ctx.client.name}) logged the canonical request and string-to-sign it "
                                "signed, and the server computed the same ones: only the key differs, so AWS holds "
                                f"another secret for {key_label(ctx)} than the client used{token} (rotated key, wrong "
                                "profile, key id and secret from different pairs)")], []
    found = diff_causes(logged_c, theirs_c) if logged_c and theirs_c else sts_causes(logged_s or "", theirs_s or "")
    return [replace(c, message=f"the client logged what it signed, and {whose} differs: {_clients(c.message)}")
            for c in found], []


#: The diff's words for its first side ("ours `/a%2520b`", "our path"), which here is what the client logged.
_OUR_SIDE = re.compile(r"\b(ours|our|we|us)\b")


def _clients(message: str) -> str:
    return _OUR_SIDE.sub(lambda m: "the client's" if m[1].startswith("our") else "the client", message)
