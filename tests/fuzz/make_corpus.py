#!/usr/bin/env python3
"""Write the seed corpus of the libFuzzer targets: tests/fuzz/make_corpus.py

corpus/envelope/: link messages (batches of [u32 length LE][envelope]) and
bare envelopes, laid out as core/envelope.h describes; valid ones of every
kind, limits (255-byte topic, 64-byte source) and a few that the decoder
must refuse. corpus/topic/: "pattern\\0topic" pairs for fuzz_topic.c.

The seeds are committed; run this again (and commit the result) when the
wire format changes. Only this script needs Python, not the build.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# enum xz_kind (sdk/include/xiezhi/xiezhi.h), enum xz_link_kind (envelope.h)
EVENT, REQUEST, REPLY, ACK = 1, 2, 3, 4
SUB, UNSUB, CREDIT, HELLO = 16, 17, 18, 19
JSON, BINARY, TEXT = 0, 1, 2
MSG_ERROR = 0x0001


def env(kind, topic, source=b"", payload=b"", ct=JSON, flags=0,
        deadline=0, magic=0x58, version=1, reserved=b"\0\0\0",
        topic_len=None):
    """One envelope: the 64-byte header, then topic, source, payload."""
    hdr = struct.pack("<BBBBHHB3sI16s16sQQ", magic, version, kind, ct, flags,
                      len(topic) if topic_len is None else topic_len,
                      len(source), reserved, len(payload),
                      bytes(range(16)), bytes(range(16, 32)),
                      1767225600000000, deadline)
    assert len(hdr) == 64
    return hdr + topic + source + payload


def batch(*envs):
    return b"".join(struct.pack("<I", len(e)) + e for e in envs)


def write(folder, seeds):
    path = os.path.join(HERE, "corpus", folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in seeds.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


event = env(EVENT, b"prison.alarm.raised", b"prison", b'{"cell":"A-12"}')
request = env(REQUEST, b"legal.aid.apply", b"kiosk-3",
              b'{"actor":{"user":"u1"}}', deadline=1767225605000000)
reply_err = env(REPLY, b"_INBOX.n1.42", b"legal",
                b'{"error":{"code":"EINVAL","message":"no"}}',
                flags=MSG_ERROR)

write("envelope", {
    "event": batch(event),
    "event_bare": event,  # one envelope, not a batch
    "three_records": batch(event, request, reply_err),
    "ack_empty_payload": batch(env(ACK, b"a", b"")),
    "binary_payload": batch(env(EVENT, b"rehab.bio.sample", b"rehab",
                                bytes(range(256)), ct=BINARY)),
    "text_payload": batch(env(EVENT, b"log.line", b"n1", b"hello", ct=TEXT)),
    "sub_group": batch(env(SUB, b"legal.*.>", b"n2", b"workers")),
    "unsub": batch(env(UNSUB, b">", b"n2")),
    "credit": batch(env(CREDIT, b"_link", b"n2", struct.pack("<I", 8))),
    "hello": batch(env(HELLO, b"_link", b"", b'{"name":"n2"}')),
    "limits": batch(env(EVENT, b".".join([b"t"] * 128), b"s" * 64, b"{}")),
    # refused: each breaks one rule of xz_env_decode / xz_batch_next
    "bad_credit_len": batch(env(CREDIT, b"_link", b"n2", b"\1\0")),
    "bad_event_wildcard": batch(env(EVENT, b"a.*", b"n2")),
    "bad_magic": batch(env(EVENT, b"a", magic=0x59)),
    "bad_reserved": batch(env(EVENT, b"a", reserved=b"\0\1\0")),
    "bad_source_byte": batch(env(EVENT, b"a", b"n\x7f")),
    "bad_topic_len": batch(env(EVENT, b"a.b", topic_len=2)),
    "zero_record": batch(event) + b"\0\0\0\0",
    "truncated_record": batch(event)[:-1],
})

write("topic", {
    "literal": b"a.b.c\0a.b.c",
    "star": b"a.*.c\0a.b.c",
    "tail": b"a.>\0a.b.c",
    "tail_only": b">\0x",
    "star_star_no_match": b"*.*\0a.b.c",
    "deployment": b"prison.cell.*.alarm\0prison.cell.A-12.alarm",
    "limits": b".".join([b"*"] * 127) + b".>\0" + b".".join([b"a"] * 128),
    "bad_tail_not_last": b"a.>.b\0a.x.b",
    "bad_empty_token": b"a..b\0a..b",
    "bad_empty": b"\0",
    "bad_high_byte": b"\xc3\xa4.b\0\xc3\xa4.b",
    "topic_with_nul": b"a.b\0a.b\0c",
})
