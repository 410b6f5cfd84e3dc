-- Key rotation: the replaced key keeps signing calls until its grace period ends.
ALTER TABLE api_users ADD COLUMN previous_key TEXT;
ALTER TABLE api_users ADD COLUMN previous_key_until INTEGER;
