"""The options that say which certificate signs: a PKCS#12 file with its passphrase, or a key on a PKCS#11 token
(the USB token an official signs with) with its PIN. The secrets come from a file, the environment or a hidden
prompt, never from the command line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor import clock, safeio
from auditor.i18n import _

if TYPE_CHECKING:  # the options are declared by commands that may never sign (listing findings)
    from sqlmodel import Session

    from auditor.identity.officer import Officer
    from auditor.identity.signer import CertSigner

ENV_PASSPHRASE = "AUDITOR_KEY_PASSPHRASE"
ENV_PIN = "AUDITOR_TOKEN_PIN"

P12Opt = Annotated[Path | None, typer.Option("--p12", help="The officer's certificate and key (PKCS#12 file; the "
                                                           "passphrase from --passphrase-file, AUDITOR_KEY_PASSPHRASE "
                                                           "or a prompt).")]
PassphraseFileOpt = Annotated[Path | None, typer.Option("--passphrase-file", help="File holding the passphrase.")]
LibOpt = Annotated[Path | None, typer.Option("--pkcs11-lib", help="The token's PKCS#11 module (e.g. "
                                                                  "/usr/lib/softhsm/libsofthsm2.so).")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="The token's label.")]
KeyLabelOpt = Annotated[str | None, typer.Option("--key-label", help="The label of the key (and its certificate) on "
                                                                    "the token.")]
PinFileOpt = Annotated[Path | None, typer.Option("--pin-file", help="File holding the token's PIN (or set "
                                                                    "AUDITOR_TOKEN_PIN, or answer the prompt).")]


@dataclass(frozen=True)
class SignerChoice:
    p12: Path | None = None
    passphrase_file: Path | None = None
    pkcs11_lib: Path | None = None
    token: str | None = None
    key_label: str | None = None
    pin_file: Path | None = None

    @property
    def given(self) -> bool:
        return self.p12 is not None or self.token is not None


def _secret(file: Path | None, env: str, prompt: str) -> str:
    """A passphrase or PIN: from a file (its first line), the environment, or a hidden prompt."""
    if file is not None:
        data = safeio.read_bytes(file, max_bytes=4096)
        return data.decode("utf-8", errors="replace").split("\n", 1)[0].rstrip("\r")
    if os.environ.get(env):
        return os.environ[env]
    return str(typer.prompt(prompt, hide_input=True))


@contextmanager
def chosen_signer(choice: SignerChoice) -> Iterator[CertSigner]:
    """The certificate and key the options name, opened (the services validate it against the trust list)."""
    from auditor.identity.signer import TokenSpec, open_signer
    from auditor.identity.trust import IdentityError

    if choice.p12 is not None:
        opened = open_signer(p12=choice.p12, passphrase=_secret(choice.passphrase_file, ENV_PASSPHRASE,
                                                                     _("Passphrase")))
    elif choice.token is not None:
        if choice.pkcs11_lib is None or choice.key_label is None:
            raise IdentityError(_("a token needs --pkcs11-lib and --key-label too"))
        opened = open_signer(token=TokenSpec(choice.pkcs11_lib, choice.token, choice.key_label,
                                             _secret(choice.pin_file, ENV_PIN, _("Token PIN"))))
    else:
        raise IdentityError(_("say which certificate signs: --p12 FILE, or --token with --pkcs11-lib and "
                              "--key-label"))
    with opened as signer:
        yield signer


@contextmanager
def officer_signer(choice: SignerChoice, session: Session) -> Iterator[tuple[CertSigner, Officer]]:
    """The chosen signer, and the officer its certificate names once validated against the workspace's trust list
    (chain, validity now, imported CRLs, key usage)."""
    from auditor.identity.trust import validate

    with chosen_signer(choice) as signer:
        officer = validate(session, signer.certificate, signer.chain, clock.now())
        yield signer, officer
