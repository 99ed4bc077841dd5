"""Phone numbers at rest: AES-256-GCM ciphertext plus a keyed hash for lookups; shown masked everywhere."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.video.domain.enforcement import mask_phone as mask_phone  # re-exported for adapters


class CipherError(InvalidInputError):
    pass


class PhoneCipher:
    """Encrypts with a random nonce (the same number encrypts differently each time); `digest` is stable."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if len(raw) < 16:
            raise CipherError("crypto.weak_key", "加密密钥太短（至少 16 字节）")
        self._enc_key = hashlib.sha256(b"xiuhua-phone-enc\0" + raw).digest()
        self._mac_key = hashlib.sha256(b"xiuhua-phone-mac\0" + raw).digest()
        self._aead = AESGCM(self._enc_key)

    def encrypt(self, phone: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, phone.encode(), b"phone")).decode()

    def decrypt(self, token: str) -> str:
        """The plain number; raises CipherError when the token was made with another key or altered."""
        try:
            raw = base64.b64decode(token)
            return self._aead.decrypt(raw[:12], raw[12:], b"phone").decode()
        except (InvalidTag, ValueError) as exc:
            raise CipherError("crypto.bad_token", "无法解密手机号（密钥不符或数据损坏）") from exc

    def digest(self, phone: str) -> str:
        """A keyed hash: finds and de-duplicates numbers without decrypting them."""
        return hmac.new(self._mac_key, phone.encode(), hashlib.sha256).hexdigest()
