/* bench_calls.c — round trips through revive: rv_call on a session of one of
 * rv-bench's services, 64 bytes each way, exactly what the seqpacket
 * baseline sends. The difference is revive's: the wire header, the journal,
 * the commit and the SSR policy. */
#include "bench_tool.h"

#include <stdlib.h>
#include "bench.h"
#include "revive/client.h"

struct call_ctx {
    rv_session *s;
    uint32_t op;
};

static int call_round(void *arg)
{
    struct call_ctx *c = arg;
    char req[MSG_BYTES] = { 1 }, rep[MSG_BYTES];
    size_t len;
    int rc = rv_call(c->s, c->op, req, sizeof req, rep, sizeof rep, &len);
    return rc == 0 && len == sizeof rep ? 0 : -1;
}

struct contender call_start(struct revived *r, const char *svc, uint32_t op)
{
    rv_conn *conn;
    struct call_ctx *c = calloc(1, sizeof *c);
    if (!c)
        bench_die("out of memory");
    c->op = op;
    if (rv_connect(r->sock, &conn) < 0)
        bench_die("cannot connect to revived at %s", r->sock);
    if (rv_open(conn, svc, NULL, &c->s) < 0)
        bench_die("cannot open a session of %s: %s", svc, rv_conn_error(conn));
    rv_disconnect(conn);
    return (struct contender){ svc, call_round, c };
}

void call_stop(struct contender *ct)
{
    struct call_ctx *c = ct->ctx;
    rv_close(c->s);
    free(c);
}
