/* bench_calls.c — round trips through revive: rv_call on a session of one of
 * rv-bench's services, 64 bytes each way, exactly what the seqpacket
 * baseline sends (or fewer, down to an empty call, for the peer section). The difference is revive's: the wire header, the journal,
 * the commit and the SSR policy. */
#include "bench_tool.h"

#include <stdlib.h>
#include "bench.h"
#include "revive/client.h"

#define MAX_ALTERNATING 2

/* With two sessions the calls alternate between them, the worst case of
 * the mprotect policy: every request serves another session than the last. */
struct call_ctx {
    rv_session *s[MAX_ALTERNATING];
    unsigned n, next;
    uint32_t op;
    size_t bytes;       /* request and reply */
};

static int call_round(void *arg)
{
    struct call_ctx *c = arg;
    char req[MSG_BYTES] = { 1 }, rep[MSG_BYTES];
    size_t len;
    rv_session *s = c->s[c->next++ % c->n];
    int rc = rv_call(s, c->op, req, c->bytes, rep, sizeof rep, &len);
    return rc == 0 && len == c->bytes ? 0 : -1;
}

struct contender call_start(struct revived *r, const char *svc, uint32_t op, unsigned sessions)
{
    return call_start_sized(r, svc, op, sessions, MSG_BYTES);
}

struct contender call_start_sized(struct revived *r, const char *svc, uint32_t op, unsigned sessions, size_t bytes)
{
    rv_conn *conn;
    struct call_ctx *c = calloc(1, sizeof *c);
    if (!c || sessions < 1 || sessions > MAX_ALTERNATING || bytes > MSG_BYTES)
        bench_die("out of memory, bad session count or more than %d bytes", MSG_BYTES);
    c->op = op;
    c->n = sessions;
    c->bytes = bytes;
    if (rv_connect(r->sock, &conn) < 0)
        bench_die("cannot connect to revived at %s", r->sock);
    for (unsigned i = 0; i < sessions; i++)
        if (rv_open(conn, svc, NULL, &c->s[i]) < 0)
            bench_die("cannot open a session of %s: %s", svc, rv_conn_error(conn));
    rv_disconnect(conn);
    return (struct contender){ svc, call_round, c };
}

void call_stop(struct contender *ct)
{
    struct call_ctx *c = ct->ctx;
    for (unsigned i = 0; i < c->n; i++)
        rv_close(c->s[i]);
    free(c);
}
