"""Officers' identities from X.509 certificates: the workspace's trust anchors and CRLs, certificate validation,
and the signers (PKCS#12 files, PKCS#11 tokens) that sign dossier steps, risk acceptances and PDFs."""
