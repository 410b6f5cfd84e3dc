-- Bridge mode (store/bridge.py, "Key holds"): the lead keys a bridged write matches by while
-- it is upstream, so that writes of other workers and hosts naming one of them wait.
CREATE TABLE bridge_key_holds (
    key      TEXT COLLATE "C" PRIMARY KEY,
    holder   TEXT COLLATE "C" NOT NULL,
    owner    TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

CREATE INDEX bridge_key_holds_holder ON bridge_key_holds (holder);
