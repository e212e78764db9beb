#!/usr/bin/env python3
"""Command-line test SAML 2.0 identity provider.

Builds IdP metadata and (signed, or deliberately broken) SAML Responses with
pysaml2's SAML object model (saml2.saml / saml2.samlp / saml2.md) and signs
them with pysaml2's xmlsec1 backend (saml2.sigver.SecurityContext, which runs
the `xmlsec1` binary). Nothing here depends on the Rust code under test.

Run it with the venv made by tests/saml/setup.sh:

    PY=$(tests/saml/setup.sh | tail -n1)
    $PY tests/saml/idp.py metadata --entity-id E --sso-url U --cert idp.crt
    $PY tests/saml/idp.py response --idp-entity-id E --sp-entity-id SP \
        --acs-url ACS --name-id N --email M --key idp.key --cert idp.crt

See tests/saml/README.md for every option and the exact shape of each variant.
Exit status: 0 on success, 2 on usage errors, 1 on signing/other failures
(message on stderr).
"""

import argparse
import base64
import contextlib
import copy
import datetime
import io
import json
import os
import shutil
import signal
import sys
import uuid

from lxml import etree
from saml2 import BINDING_HTTP_POST
from saml2 import BINDING_HTTP_REDIRECT
from saml2 import md
from saml2 import saml
from saml2 import samlp
from saml2 import xmldsig as ds
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.cert import read_cert_from_file
from saml2.metadata import do_key_descriptor
from saml2.sigver import CryptoBackendXmlSec1
from saml2.sigver import SecurityContext
from saml2.sigver import pre_signature_part

NS = {
    "samlp": samlp.NAMESPACE,
    "saml": saml.NAMESPACE,
    "ds": ds.NAMESPACE,
    "md": md.NAMESPACE,
}
# Prefixes used when pysaml2 serialises the message before signing.
NSPAIR = {
    "samlp": samlp.NAMESPACE,
    "saml": saml.NAMESPACE,
    "ds": ds.NAMESPACE,
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
ASSERTION_NODE = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
RESPONSE_NODE = "urn:oasis:names:tc:SAML:2.0:protocol:Response"

DIGESTS = {"sha256": ds.DIGEST_SHA256, "sha1": ds.DIGEST_SHA1}
SIG_ALGS = {"rsa-sha256": ds.SIG_RSA_SHA256, "rsa-sha1": ds.SIG_RSA_SHA1}

VARIANTS = [
    "none",
    "unsigned",
    "xsw-before",
    "xsw-after",
    "xsw-inside",
    "xsw-inside-advice",
    "xsw-extensions",
    "xsw-object",
    "comment",
    "tampered",
]

ATTR_NAME_FORMAT = saml.NAME_FORMAT_BASIC


class UsageError(Exception):
    pass


def die(msg, code=1):
    print(f"idp.py: {msg}", file=sys.stderr)
    sys.exit(code)


def new_id():
    # XML IDs must be NCNames: must not start with a digit.
    return "_" + uuid.uuid4().hex


def fmt_time(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def find_xmlsec1(explicit):
    path = explicit or os.environ.get("XMLSEC1") or shutil.which("xmlsec1")
    if not path or not os.path.exists(path):
        die("xmlsec1 binary not found (apt-get install xmlsec1, or pass --xmlsec1 PATH / set XMLSEC1)")
    return path


def cert_body(cert_path):
    """Base64 DER body of a PEM certificate (what goes into ds:X509Certificate)."""
    try:
        return read_cert_from_file(cert_path, "pem")
    except Exception as err:  # pragma: no cover - message only
        die(f"cannot read certificate {cert_path}: {err}")


# --------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------


def cmd_metadata(args):
    idpsso = md.IDPSSODescriptor(
        protocol_support_enumeration=samlp.NAMESPACE,
        want_authn_requests_signed="false",
    )
    if not args.no_cert:
        if not args.cert:
            raise UsageError("metadata: --cert is required unless --no-cert is given")
        idpsso.key_descriptor = do_key_descriptor(cert_body(args.cert), None, use="signing")
    idpsso.name_id_format = [md.NameIDFormat(text=saml.NAMEID_FORMAT_EMAILADDRESS)]
    idpsso.single_sign_on_service = [
        md.SingleSignOnService(binding=BINDING_HTTP_REDIRECT, location=args.sso_url),
        md.SingleSignOnService(binding=BINDING_HTTP_POST, location=args.sso_url),
    ]
    ed = md.EntityDescriptor(entity_id=args.entity_id, idpsso_descriptor=idpsso)
    xml = ed.to_string(nspair={"md": md.NAMESPACE, "ds": ds.NAMESPACE})
    sys.stdout.write(xml.decode("utf-8") + "\n")


# --------------------------------------------------------------------------
# response
# --------------------------------------------------------------------------


def build_response(args, cert_b64, sign_assertion, sign_response):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    issue_instant = fmt_time(now + datetime.timedelta(seconds=args.issue_instant_offset))
    not_before = fmt_time(now + datetime.timedelta(seconds=args.not_before_offset))
    not_on_or_after = fmt_time(now + datetime.timedelta(seconds=args.not_on_or_after_offset))

    assertion_id = args.assertion_id or new_id()
    response_id = args.response_id or new_id()
    irt = args.in_response_to  # None => unsolicited: attribute omitted

    attributes = [
        saml.Attribute(
            name="email",
            name_format=ATTR_NAME_FORMAT,
            attribute_value=[saml.AttributeValue(text=args.email)],
        )
    ]
    if args.given_name:
        attributes.append(
            saml.Attribute(
                name="givenName",
                name_format=ATTR_NAME_FORMAT,
                attribute_value=[saml.AttributeValue(text=args.given_name)],
            )
        )
    if args.surname:
        attributes.append(
            saml.Attribute(
                name="surname",
                name_format=ATTR_NAME_FORMAT,
                attribute_value=[saml.AttributeValue(text=args.surname)],
            )
        )

    assertion = saml.Assertion(
        id=assertion_id,
        version="2.0",
        issue_instant=issue_instant,
        issuer=saml.Issuer(text=args.idp_entity_id, format=saml.NAMEID_FORMAT_ENTITY),
        subject=saml.Subject(
            name_id=saml.NameID(format=saml.NAMEID_FORMAT_EMAILADDRESS, text=args.name_id),
            subject_confirmation=[
                saml.SubjectConfirmation(
                    method=saml.SCM_BEARER,
                    subject_confirmation_data=saml.SubjectConfirmationData(
                        recipient=args.recipient,
                        not_on_or_after=not_on_or_after,
                        in_response_to=irt,
                    ),
                )
            ],
        ),
        conditions=saml.Conditions(
            not_before=not_before,
            not_on_or_after=not_on_or_after,
            audience_restriction=[saml.AudienceRestriction(audience=[saml.Audience(text=args.audience)])],
        ),
        authn_statement=[
            saml.AuthnStatement(
                authn_instant=issue_instant,
                session_index=new_id(),
                authn_context=saml.AuthnContext(
                    authn_context_class_ref=saml.AuthnContextClassRef(text=PASSWORDPROTECTEDTRANSPORT)
                ),
            )
        ],
        attribute_statement=[saml.AttributeStatement(attribute=attributes)],
    )

    response = samlp.Response(
        id=response_id,
        version="2.0",
        issue_instant=issue_instant,
        destination=args.destination,
        in_response_to=irt,
        issuer=saml.Issuer(text=args.idp_entity_id, format=saml.NAMEID_FORMAT_ENTITY),
        status=samlp.Status(status_code=samlp.StatusCode(value=args.status)),
        assertion=[assertion],
    )

    digest_alg = DIGESTS[args.digest]
    sign_alg = SIG_ALGS[args.sig_alg]
    # pre_signature_part builds the ds:Signature template (exc-c14n, enveloped
    # transform, chosen algorithms, KeyInfo/X509Data with our cert) that
    # xmlsec1 then fills in.
    if sign_assertion:
        assertion.signature = pre_signature_part(
            assertion_id, cert_b64, sign_alg=sign_alg, digest_alg=digest_alg
        )
    if sign_response:
        response.signature = pre_signature_part(
            response_id, cert_b64, sign_alg=sign_alg, digest_alg=digest_alg
        )
    return response, assertion_id, response_id


def sign(xml, sec, key, assertion_id, response_id, sign_assertion, sign_response):
    # Same order as pysaml2's own IdP (saml2.entity.Entity._response): the
    # inner assertion first, then the Response, whose digest covers the
    # already signed assertion.
    out = xml
    if sign_assertion:
        out = sec.sign_statement(out, ASSERTION_NODE, key_file=key, node_id=assertion_id)
    if sign_response:
        out = sec.sign_statement(out, RESPONSE_NODE, key_file=key, node_id=response_id)
    if isinstance(out, str):
        out = out.encode("utf-8")
    return out


def parse(xml_bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(xml_bytes, parser)


def q(prefix, local):
    return f"{{{NS[prefix]}}}{local}"


def make_evil(signed_assertion, evil_name_id, evil_email, evil_id):
    """Unsigned copy of the assertion with attacker-chosen identity."""
    evil = copy.deepcopy(signed_assertion)
    for sig in evil.findall("ds:Signature", NS):
        evil.remove(sig)
    evil.set("ID", evil_id)
    for nid in evil.iterfind("saml:Subject/saml:NameID", NS):
        nid.text = evil_name_id
    for val in evil.iterfind("saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue", NS):
        val.text = evil_email
    return evil


def response_header_anchor(resp):
    """Last of Issuer/Signature/Extensions at the start of the Response
    (schema order: Issuer, Signature, Extensions, Status, ...)."""
    anchor = None
    for child in resp:
        if child.tag in (q("saml", "Issuer"), q("ds", "Signature"), q("samlp", "Extensions")):
            anchor = child
        elif isinstance(child.tag, str):
            break
    return anchor


def insert_after_header(resp, elem):
    anchor = response_header_anchor(resp)
    if anchor is None:
        resp.insert(0, elem)
    else:
        anchor.addnext(elem)


def comment_split_point(text, after):
    if after is not None:
        if not text.startswith(after) or len(after) in (0, len(text)):
            raise UsageError(
                f"--comment-after {after!r} must be a proper, non-empty prefix of the NameID {text!r}"
            )
        return len(after)
    # Default: before the second-to-last '.', e.g.
    #   admin@victim.example.attacker.example -> admin@victim.example | .attacker.example
    dots = [i for i, c in enumerate(text) if c == "."]
    if len(dots) >= 2 and dots[-2] > 0:
        return dots[-2]
    if len(text) < 2:
        raise UsageError("comment variant needs a NameID of at least 2 characters")
    return len(text) // 2


def split_text_with_comment(elem, pos):
    text = elem.text or ""
    for child in list(elem):  # NameID/AttributeValue carry text only
        elem.remove(child)
    elem.text = text[:pos]
    c = etree.Comment("")
    c.tail = text[pos:]
    elem.append(c)


def apply_variant(xml_bytes, args):
    v = args.variant
    if v in ("none", "unsigned"):
        return xml_bytes

    root = parse(xml_bytes)
    assertion = root.find("saml:Assertion", NS)
    if assertion is None:
        die("internal: no saml:Assertion in the generated response")
    evil_id = args.evil_assertion_id or new_id()
    evil_email = args.evil_email or args.evil_name_id

    if v == "xsw-before":
        assertion.addprevious(make_evil(assertion, args.evil_name_id, evil_email, evil_id))
    elif v == "xsw-after":
        assertion.addnext(make_evil(assertion, args.evil_name_id, evil_email, evil_id))
    elif v == "xsw-inside":
        # XSW "wrapping" shape: the evil assertion takes the signed one's place
        # and the signed assertion (intact) becomes the evil one's last child.
        evil = make_evil(assertion, args.evil_name_id, evil_email, evil_id)
        assertion.addprevious(evil)
        evil.append(assertion)
    elif v == "xsw-inside-advice":
        # Same, but schema-valid: the signed assertion sits in the evil
        # assertion's saml:Advice (Issuer, Subject, Conditions, Advice, statements).
        evil = make_evil(assertion, args.evil_name_id, evil_email, evil_id)
        assertion.addprevious(evil)
        advice = etree.Element(q("saml", "Advice"), nsmap={"saml": saml.NAMESPACE})
        conds = evil.find("saml:Conditions", NS)
        if conds is not None:
            conds.addnext(advice)
        else:
            evil.find("saml:Subject", NS).addnext(advice)
        advice.append(assertion)
    elif v == "xsw-extensions":
        evil = make_evil(assertion, args.evil_name_id, evil_email, evil_id)
        assertion.addprevious(evil)
        ext = root.find("samlp:Extensions", NS)
        if ext is None:
            ext = etree.Element(q("samlp", "Extensions"), nsmap={"samlp": samlp.NAMESPACE})
            insert_after_header(root, ext)
        ext.append(assertion)
    elif v == "xsw-object":
        evil = make_evil(assertion, args.evil_name_id, evil_email, evil_id)
        assertion.addprevious(evil)
        sig = root.find("ds:Signature", NS)
        if sig is None:
            # Assertion-only signing: add a bare ds:Signature (no SignedInfo)
            # in the Response's signature slot, right after its Issuer.
            sig = etree.Element(q("ds", "Signature"), nsmap={"ds": ds.NAMESPACE})
            issuer = root.find("saml:Issuer", NS)
            if issuer is not None:
                issuer.addnext(sig)
            else:
                root.insert(0, sig)
        obj = etree.SubElement(sig, q("ds", "Object"))
        obj.append(assertion)
    elif v == "comment":
        nid = assertion.find("saml:Subject/saml:NameID", NS)
        original = nid.text or ""
        pos = comment_split_point(original, args.comment_after)
        split_text_with_comment(nid, pos)
        # The email attribute too, when it carries the same string.
        for val in assertion.iterfind("saml:AttributeStatement/saml:Attribute/saml:AttributeValue", NS):
            if (val.text or "") == original and len(val) == 0:
                split_text_with_comment(val, pos)
    elif v == "tampered":
        for nid in assertion.iterfind("saml:Subject/saml:NameID", NS):
            nid.text = args.evil_name_id
        for val in assertion.iterfind(
            "saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue", NS
        ):
            val.text = evil_email
    else:  # pragma: no cover - argparse restricts choices
        raise UsageError(f"unknown variant {v}")

    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def cmd_response(args):
    if args.destination is None:
        args.destination = args.acs_url
    if args.recipient is None:
        args.recipient = args.acs_url
    if args.audience is None:
        args.audience = args.sp_entity_id

    if args.variant == "unsigned":
        sign_assertion = sign_response = False
    else:
        sign_assertion = args.sign in ("assertion", "both")
        sign_response = args.sign in ("response", "both")
    if args.variant in ("comment", "tampered", "xsw-object") and not sign_assertion:
        raise UsageError(f"--variant {args.variant} needs a signed assertion (--sign assertion or both)")

    for path in (args.key, args.cert):
        if not os.path.exists(path):
            raise UsageError(f"no such file: {path}")

    cert_b64 = cert_body(args.cert)
    response, assertion_id, response_id = build_response(args, cert_b64, sign_assertion, sign_response)
    xml = response.to_string(nspair=NSPAIR)

    if sign_assertion or sign_response:
        crypto = CryptoBackendXmlSec1(find_xmlsec1(args.xmlsec1), delete_tmpfiles=True)
        sec = SecurityContext(crypto, key_file=args.key, cert_file=args.cert)
        try:
            xml = sign(xml, sec, args.key, assertion_id, response_id, sign_assertion, sign_response)
        except Exception as err:
            die(f"signing with xmlsec1 failed: {err}")
    else:
        xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml

    xml = apply_variant(xml, args)

    if args.raw:
        sys.stdout.write(xml.decode("utf-8"))
        if not xml.endswith(b"\n"):
            sys.stdout.write("\n")
    else:
        sys.stdout.write(base64.b64encode(xml).decode("ascii") + "\n")


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def build_parser():
    p = argparse.ArgumentParser(description="Test SAML IdP built on pysaml2 + xmlsec1")
    sub = p.add_subparsers(dest="cmd", required=True)

    m = sub.add_parser("metadata", help="print IdP metadata XML")
    m.add_argument("--entity-id", required=True)
    m.add_argument("--sso-url", required=True, help="SingleSignOnService location (Redirect and POST)")
    m.add_argument("--cert", help="PEM certificate for the signing KeyDescriptor")
    m.add_argument("--no-cert", action="store_true", help="omit the KeyDescriptor entirely")
    m.set_defaults(func=cmd_metadata)

    r = sub.add_parser("response", help="print a (signed) SAML Response, base64 by default")
    r.add_argument("--idp-entity-id", required=True)
    r.add_argument("--sp-entity-id", required=True)
    r.add_argument("--acs-url", required=True)
    r.add_argument("--destination", help="Response/@Destination (default: --acs-url)")
    r.add_argument("--recipient", help="SubjectConfirmationData/@Recipient (default: --acs-url)")
    r.add_argument("--audience", help="Conditions/AudienceRestriction/Audience (default: --sp-entity-id)")
    r.add_argument("--in-response-to", help="AuthnRequest ID; omitted = unsolicited response")
    r.add_argument("--name-id", required=True, help="NameID (format emailAddress)")
    r.add_argument("--email", required=True, help="value of the 'email' attribute")
    r.add_argument("--given-name", default="Test", help="'givenName' attribute ('' to omit)")
    r.add_argument("--surname", default="User", help="'surname' attribute ('' to omit)")
    r.add_argument("--key", required=True, help="PEM private key to sign with")
    r.add_argument("--cert", required=True, help="PEM certificate put into ds:KeyInfo")
    r.add_argument("--variant", default="none", choices=VARIANTS)
    r.add_argument("--sign", default="assertion", choices=["assertion", "response", "both"])
    r.add_argument("--digest", default="sha256", choices=sorted(DIGESTS))
    r.add_argument("--sig-alg", default="rsa-sha256", choices=sorted(SIG_ALGS))
    r.add_argument(
        "--not-on-or-after-offset",
        type=int,
        default=300,
        help="seconds from now for Conditions and SubjectConfirmationData NotOnOrAfter (negative = expired)",
    )
    r.add_argument("--not-before-offset", type=int, default=0, help="seconds from now for Conditions/@NotBefore")
    r.add_argument("--issue-instant-offset", type=int, default=0, help="seconds from now for IssueInstant/AuthnInstant")
    r.add_argument("--assertion-id", help="Assertion/@ID (default: random)")
    r.add_argument("--response-id", help="Response/@ID (default: random)")
    r.add_argument("--status", default=samlp.STATUS_SUCCESS, help="top-level StatusCode value")
    r.add_argument("--evil-name-id", default="admin@victim.example", help="NameID of the injected assertion (xsw-*, tampered)")
    r.add_argument("--evil-email", help="email attribute of the injected assertion (default: --evil-name-id)")
    r.add_argument("--evil-assertion-id", help="ID of the injected assertion (default: random)")
    r.add_argument("--comment-after", help="comment variant: NameID prefix after which <!----> is inserted")
    r.add_argument("--raw", action="store_true", help="print the XML instead of base64")
    r.add_argument("--xmlsec1", help="path of the xmlsec1 binary (default: $XMLSEC1 or PATH)")
    r.set_defaults(func=cmd_response)

    b = sub.add_parser(
        "batch",
        help="read one JSON array of arguments per stdin line, answer one JSON object per line",
    )
    b.set_defaults(func=cmd_batch)
    return p


def run(argv):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UsageError as err:
        die(str(err), code=2)


def cmd_batch(_args):
    """Amortises the ~0.5 s import of pysaml2 over many requests.

    Each stdin line is a JSON array such as ["response", "--name-id", ...];
    each answer (flushed at once, so it works as a co-process) is
    {"code": EXIT_STATUS, "stdout": "...", "stderr": "..."}.
    """
    for line in sys.stdin:
        if not line.strip():
            continue
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                argv = json.loads(line)
                if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                    raise UsageError("batch: each line must be a JSON array of strings")
                if argv and argv[0] == "batch":
                    raise UsageError("batch: nested batch not allowed")
                run(argv)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except (UsageError, ValueError) as e:
                print(f"idp.py: {e}", file=sys.stderr)
                code = 2
            except Exception as e:  # keep serving the next request
                print(f"idp.py: {type(e).__name__}: {e}", file=sys.stderr)
                code = 1
        sys.stdout.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
        sys.stdout.flush()


def main(argv=None):
    # Behave like a normal CLI when piped into head etc.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    run(argv)


if __name__ == "__main__":
    main()
