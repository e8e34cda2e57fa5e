/*
 * fastrecv: the load generator's receive path in C (optional; bench/loadgen.py
 * falls back to Python when no C compiler is there).
 *
 * After the Python side has opened, upgraded and joined a connection it pauses
 * its own reading and hands the socket to this thread, which epolls all of
 * them, parses WebSocket frames and, for every broadcast
 * (new_room_chat_message), finds the "~L<sender>:<msg#>:<t_ns>~" marker,
 * records the send -> receive latency (CLOCK_MONOTONIC) and counts the delivery
 * per message and checks per-(receiver, sender) order. Every other frame
 * (replies, acks, pings, closes) is queued for Python, which is woken through a
 * pipe. Sending stays in Python.
 *
 * Build: cc -O2 -shared -fPIC -pthread -o fastrecv.so fastrecv.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int idx;
    int closed;
    unsigned char *buf;
    size_t len, cap;
    unsigned char *frag;
    size_t frag_len;
} conn_t;

static conn_t *conns;
static int max_conns, n_slots;
static int *inst;         /* instance of connection idx */
static int *slot_of;      /* sender slot of connection idx, -1 if not a sender */
static int64_t *last_k;   /* [conn * n_slots + slot] */
static int32_t *received; /* per message number */
static int64_t max_msgs;
static int sio_dialect;

static int64_t *lat_local, *lat_remote;
static int64_t n_local, n_remote, lat_cap;
static volatile int64_t delivered, delivered_remote, out_of_order, bad, closed_conns,
    dropped_lat;

/* queue of frames for Python: records {int32 idx, int32 type, int32 len, bytes} */
static unsigned char *q;
static size_t q_len, q_cap;
static int notify_fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t th;
static volatile int running;
static int ep = -1;

static const char BC_JSON[] = "\"new_room_chat_message\"";
static const char BC_SIO[] = "42[\"new_room_chat_message\"";

int fr_init(int maxc, int slots, int64_t maxm, int64_t latcap, int sio, int notify) {
    max_conns = maxc;
    n_slots = slots > 0 ? slots : 1;
    max_msgs = maxm;
    lat_cap = latcap;
    sio_dialect = sio;
    notify_fd = notify;
    conns = calloc(maxc, sizeof(conn_t));
    inst = calloc(maxc, sizeof(int));
    slot_of = malloc(sizeof(int) * maxc);
    for (int i = 0; i < maxc; i++) slot_of[i] = -1;
    last_k = malloc(sizeof(int64_t) * (size_t)maxc * n_slots);
    for (size_t i = 0; i < (size_t)maxc * n_slots; i++) last_k[i] = -1;
    received = calloc(maxm, sizeof(int32_t));
    lat_local = malloc(sizeof(int64_t) * latcap);
    lat_remote = malloc(sizeof(int64_t) * latcap);
    q_cap = 64 << 20;
    q = malloc(q_cap);
    ep = epoll_create1(0);
    if (!conns || !inst || !slot_of || !last_k || !received || !lat_local || !lat_remote || !q ||
        ep < 0)
        return -1;
    return 0;
}

void fr_set_conn(int idx, int instance, int slot) {
    inst[idx] = instance;
    slot_of[idx] = slot;
}

int fr_add(int fd, int idx) {
    conn_t *c = &conns[idx];
    c->fd = fd;
    c->idx = idx;
    c->cap = 65536;
    c->buf = malloc(c->cap);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void enqueue(int idx, int type, const unsigned char *p, size_t n) {
    pthread_mutex_lock(&mu);
    while (q_len + 12 + n > q_cap) { /* Python is behind: wait for it */
        pthread_mutex_unlock(&mu);
        usleep(200);
        pthread_mutex_lock(&mu);
    }
    int was_empty = q_len == 0;
    int32_t h[3] = {idx, type, (int32_t)n};
    memcpy(q + q_len, h, 12);
    if (n) memcpy(q + q_len + 12, p, n);
    q_len += 12 + n;
    pthread_mutex_unlock(&mu);
    if (was_empty) {
        char x = 1;
        ssize_t r = write(notify_fd, &x, 1);
        (void)r;
    }
}

static int64_t parse_int(const unsigned char **pp, const unsigned char *end) {
    const unsigned char *p = *pp;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *pp = p;
    return v;
}

static void on_text(conn_t *c, const unsigned char *p, size_t n) {
    int is_bc;
    if (sio_dialect)
        is_bc = n >= sizeof(BC_SIO) - 1 && memcmp(p, BC_SIO, sizeof(BC_SIO) - 1) == 0;
    else
        is_bc = memmem(p, n, BC_JSON, sizeof(BC_JSON) - 1) != NULL;
    if (!is_bc) {
        enqueue(c->idx, 1, p, n);
        return;
    }
    const unsigned char *m = memmem(p, n, "~L", 2);
    if (!m) {
        bad++;
        return;
    }
    const unsigned char *end = p + n;
    m += 2;
    int64_t s = parse_int(&m, end);
    m++;
    int64_t k = parse_int(&m, end);
    m++;
    int64_t t = parse_int(&m, end);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (s < 0 || s >= max_conns || k < 0 || k >= max_msgs) {
        bad++;
        return;
    }
    int slot = slot_of[s];
    if (slot >= 0 && slot < n_slots) {
        int64_t *l = &last_k[(size_t)c->idx * n_slots + slot];
        if (k <= *l)
            out_of_order++;
        else
            *l = k;
    }
    pthread_mutex_lock(&mu);
    received[k]++;
    if (inst[s] != inst[c->idx]) {
        if (n_remote < lat_cap)
            lat_remote[n_remote++] = now - t;
        else
            dropped_lat++;
        delivered_remote++;
    } else {
        if (n_local < lat_cap)
            lat_local[n_local++] = now - t;
        else
            dropped_lat++;
    }
    delivered++;
    pthread_mutex_unlock(&mu);
}

static void parse(conn_t *c) {
    size_t pos = 0;
    unsigned char *d = c->buf;
    while (c->len - pos >= 2) {
        unsigned b0 = d[pos], ln = d[pos + 1] & 0x7f;
        size_t hl = 2, plen = ln;
        if (ln == 126) {
            if (c->len - pos < 4) break;
            plen = ((size_t)d[pos + 2] << 8) | d[pos + 3];
            hl = 4;
        } else if (ln == 127) {
            if (c->len - pos < 10) break;
            plen = 0;
            for (int i = 0; i < 8; i++) plen = (plen << 8) | d[pos + 2 + i];
            hl = 10;
        }
        if (c->len - pos < hl + plen) {
            if (hl + plen > c->cap) { /* grow for a big frame */
                size_t nc = c->cap;
                while (nc < hl + plen) nc *= 2;
                memmove(c->buf, c->buf + pos, c->len - pos);
                c->len -= pos;
                c->buf = realloc(c->buf, nc);
                c->cap = nc;
                return;
            }
            break;
        }
        const unsigned char *p = d + pos + hl;
        unsigned op = b0 & 0x0f, fin = b0 & 0x80;
        if (op == 1 || op == 2 || op == 0) {
            if (fin && op != 0) {
                on_text(c, p, plen);
            } else {
                c->frag = realloc(c->frag, c->frag_len + plen);
                memcpy(c->frag + c->frag_len, p, plen);
                c->frag_len += plen;
                if (fin) {
                    on_text(c, c->frag, c->frag_len);
                    c->frag_len = 0;
                }
            }
        } else if (op == 9) {
            enqueue(c->idx, 9, p, plen); /* ping: Python answers */
        } else if (op == 8) {
            enqueue(c->idx, 8, p, plen);
        }
        pos += hl + plen;
    }
    if (pos) {
        memmove(c->buf, c->buf + pos, c->len - pos);
        c->len -= pos;
    }
}

static int spin;
static volatile int64_t idle_ns, work_ns;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *loop(void *arg) {
    (void)arg;
    struct epoll_event evs[256];
    int64_t t_prev = mono_ns();
    while (running) {
        int n = epoll_wait(ep, evs, 256, spin ? 0 : 50);
        int64_t t_got = mono_ns();
        if (n <= 0) {
            idle_ns += t_got - t_prev;
            t_prev = t_got;
            if (spin) sched_yield();
            continue;
        }
        /* time blocked in epoll_wait (not spinning) counts as idle */
        if (!spin) idle_ns += t_got - t_prev;
        for (int i = 0; i < n; i++) {
            conn_t *c = &conns[evs[i].data.u32];
            for (;;) {
                if (c->cap - c->len < 4096) {
                    c->cap *= 2;
                    c->buf = realloc(c->buf, c->cap);
                }
                size_t space = c->cap - c->len;
                ssize_t r = recv(c->fd, c->buf + c->len, space, MSG_DONTWAIT);
                if (r > 0) {
                    c->len += (size_t)r;
                    parse(c);
                    if ((size_t)r < space) break; /* drained */
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    c->closed = 1;
                    closed_conns++;
                    enqueue(c->idx, 0, NULL, 0);
                }
                break;
            }
        }
        t_prev = mono_ns();
        work_ns += t_prev - t_got;
    }
    return NULL;
}

int fr_start(int spin_mode) {
    spin = spin_mode;
    running = 1;
    return pthread_create(&th, NULL, loop, NULL);
}

void fr_stop(void) {
    if (running) {
        running = 0;
        pthread_join(th, NULL);
    }
}

/* copy out whole queued records; returns bytes copied */
int64_t fr_pop(unsigned char *out, int64_t cap) {
    pthread_mutex_lock(&mu);
    size_t n = 0;
    while (n + 12 <= q_len) {
        int32_t h[3];
        memcpy(h, q + n, 12);
        size_t rec = 12 + (size_t)h[2];
        if (n + rec > (size_t)cap) break;
        n += rec;
    }
    if (n) {
        memcpy(out, q, n);
        memmove(q, q + n, q_len - n);
        q_len -= n;
    }
    pthread_mutex_unlock(&mu);
    return (int64_t)n;
}

/* take (and reset) the latencies recorded so far */
void fr_take(int64_t *out_local, int64_t *out_remote, int64_t *counts) {
    /* out_* hold lat_cap entries each */
    pthread_mutex_lock(&mu);
    if (out_local) memcpy(out_local, lat_local, sizeof(int64_t) * n_local);
    if (out_remote) memcpy(out_remote, lat_remote, sizeof(int64_t) * n_remote);
    counts[0] = n_local;
    counts[1] = n_remote;
    n_local = n_remote = 0;
    pthread_mutex_unlock(&mu);
}

void fr_counts(int64_t *out) {
    out[0] = delivered;
    out[1] = delivered_remote;
    out[2] = out_of_order;
    out[3] = bad;
    out[4] = closed_conns;
    out[5] = dropped_lat;
    out[6] = n_local;
    out[7] = n_remote;
    out[8] = work_ns;
    out[9] = idle_ns;
}

int32_t *fr_received(void) { return received; }
