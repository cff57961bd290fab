"""The sealed store: envelope encryption, content-addressed ciphertext blobs and stamped copies.

Below councils (whose content it seals) and above accounts/leak (it names recipients and stamps copies):
council content, information items and commission deliverables all go through it (I8, I11, I12).
"""
