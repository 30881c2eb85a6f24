/*
 * trace.c - the running trace hash and the optional JSONL trace.
 *
 * Every dispatched event appends one record to a running XXH3-64 hash:
 *
 *   time    int64, little-endian
 *   node    uint32 (receiver; 0xffffffff for the whole network)
 *   src     uint32 (sender; 0xffffffff for timers and faults)
 *   kind    int32  (1 message, -1 message dropped on arrival, 2 timer,
 *                   3 fault)
 *   type    uint32 (message type or timer kind)
 *   len     uint32
 *   zero    uint32 (padding to 32 bytes)
 * then len payload bytes (a timer's argument; a fault's name)
 *
 * so trace_hash is XXH3-64 (seed 0) of the concatenated records, which any
 * tool can recompute.  The hash covers what happened and when; a model that
 * changes any decision changes it.
 */
#include "sim_int.h"

#include <string.h>

static void json_escape(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void sim__trace_flush(sim *s) {
    if (s->hlen)
        XXH3_64bits_update(s->hash, s->hbuf, s->hlen);
    s->hlen = 0;
}

uint64_t sim_hash64(const void *data, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(data, len, seed);
}

/* The record when it does not fit the buffer, or when a trace is written. */
void sim__trace_event_slow(sim *s, int kind, uint32_t node, uint32_t src, uint32_t type,
                           const void *data, uint32_t len) {
    if (s->hlen + SIM__TRACE_HDR + len > SIM__HASH_BUF)
        sim__trace_flush(s);
    if (SIM__TRACE_HDR + len > SIM__HASH_BUF) {
        /* Too large to buffer: hash the record in place. */
        unsigned char rec[SIM__TRACE_HDR];
        sim__trace_header(rec, s->now, kind, node, src, type, len);
        XXH3_64bits_update(s->hash, rec, sizeof rec);
        XXH3_64bits_update(s->hash, data, len);
    } else {
        sim__trace_buffer(s, kind, node, src, type, data, len);
    }
    if (!s->trace || kind == SIM_EV_FAULT)
        return;
    FILE *f = s->trace;
    fprintf(f, "{\"t\":%lld,", (long long)s->now);
    if (kind == SIM_EV_MSG || kind == -SIM_EV_MSG) {
        fprintf(f, "\"ev\":\"%s\",\"node\":", kind > 0 ? "msg" : "msg_dropped");
        json_escape(f, s->nodes[node].name);
        fputs(",\"from\":", f);
        json_escape(f, s->nodes[src].name);
        fputs(",\"type\":", f);
        json_escape(f, s->type_names[type]);
        fprintf(f, ",\"bytes\":%u}\n", len);
    } else if (node == UINT32_MAX) {
        /* A world timer: an event of the whole model, no node's. */
        uint64_t arg;
        memcpy(&arg, data, sizeof arg);
        fprintf(f, "\"ev\":\"world_timer\",\"kind\":%u,\"arg\":%llu}\n", type,
                (unsigned long long)arg);
    } else {
        fputs("\"ev\":\"timer\",\"node\":", f);
        json_escape(f, s->nodes[node].name);
        uint64_t arg;
        memcpy(&arg, data, sizeof arg);
        fprintf(f, ",\"kind\":%u,\"arg\":%llu}\n", type, (unsigned long long)arg);
    }
}

void sim__trace_line(sim *s, const char *what, uint32_t node, const char *text) {
    FILE *f = s->trace;
    fprintf(f, "{\"t\":%lld,\"ev\":\"%s\"", (long long)s->now, what);
    if (node != UINT32_MAX) {
        fputs(",\"node\":", f);
        json_escape(f, s->nodes[node].name);
    }
    fputs(",\"text\":", f);
    json_escape(f, text);
    fputs("}\n", f);
}
