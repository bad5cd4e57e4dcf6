-- 0004: the language the person reads Mend in ("es", "pt-BR", ...); "" until they agree
-- to storage, when Telegram's language code chooses it (they can change it in /settings).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
