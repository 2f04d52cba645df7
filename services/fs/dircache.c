/* dircache.c — cached directory names; see dircache.h.
 *
 * Two levels of open addressing: directories by inode number, and in each
 * directory its names by hash (linear probing, deleted slots marked and
 * reused, the table rebuilt when used and deleted slots pass 3/4). Names
 * are copied in. The cache holds at most DC_MAX_NAMES names in all; past
 * that it forgets everything and starts over, which costs only re-reads. */
#include "dircache.h"

#include <stdlib.h>
#include <string.h>

#define DC_MAX_NAMES (1u << 21)
#define DC_MAX_DIRS 4096

struct dc_name {
    char *name;             /* NULL: never used; TOMBSTONE: deleted */
    uint32_t len, ino, block;
    uint32_t hash;
};

struct dc_dir {
    uint32_t dir;
    size_t used, dead, cap;     /* live names, deleted slots, slots */
    size_t children;
    struct dc_name *slots;
};

static char tombstone[1];
#define TOMBSTONE tombstone

static struct dc_dir *dirs[DC_MAX_DIRS];     /* by dir % DC_MAX_DIRS, probed */
static size_t ndirs, nnames;

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static bool is_dot(const char *name, size_t len)
{
    return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

static void free_dir(struct dc_dir *d)
{
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].name && d->slots[i].name != TOMBSTONE)
            free(d->slots[i].name);
    nnames -= d->used;
    free(d->slots);
    free(d);
}

void dc_clear(void)
{
    for (size_t i = 0; i < DC_MAX_DIRS; i++)
        if (dirs[i]) {
            free_dir(dirs[i]);
            dirs[i] = NULL;
        }
    ndirs = 0;
}

static size_t dir_slot(uint32_t dir, bool *found)
{
    size_t i = dir % DC_MAX_DIRS, first_free = DC_MAX_DIRS;
    for (size_t n = 0; n < DC_MAX_DIRS; n++, i = (i + 1) % DC_MAX_DIRS) {
        if (dirs[i] && dirs[i]->dir == dir) {
            *found = true;
            return i;
        }
        if (!dirs[i] && first_free == DC_MAX_DIRS)
            first_free = i;
    }
    *found = false;
    return first_free;
}

struct dc_dir *dc_get(uint32_t dir)
{
    bool found;
    size_t i = dir_slot(dir, &found);
    return found ? dirs[i] : NULL;
}

void dc_drop(uint32_t dir)
{
    bool found;
    size_t i = dir_slot(dir, &found);
    if (!found)
        return;
    free_dir(dirs[i]);
    dirs[i] = NULL;
    ndirs--;
}

struct dc_dir *dc_make(uint32_t dir)
{
    dc_drop(dir);
    if (ndirs >= DC_MAX_DIRS / 2 || nnames >= DC_MAX_NAMES)
        dc_clear();
    bool found;
    size_t i = dir_slot(dir, &found);
    struct dc_dir *d = calloc(1, sizeof *d);
    if (!d || i == DC_MAX_DIRS || !(d->slots = calloc(16, sizeof *d->slots))) {
        free(d);
        return NULL;
    }
    d->dir = dir;
    d->cap = 16;
    dirs[i] = d;
    ndirs++;
    return d;
}

/* The slot of name, or the one it would go in (then *found is false). */
static size_t name_slot(const struct dc_dir *d, const char *name, size_t len, uint32_t h, bool *found)
{
    size_t mask = d->cap - 1, i = h & mask, reuse = d->cap;
    for (;; i = (i + 1) & mask) {
        const struct dc_name *s = &d->slots[i];
        if (!s->name) {
            *found = false;
            return reuse < d->cap ? reuse : i;
        }
        if (s->name == TOMBSTONE) {
            if (reuse == d->cap)
                reuse = i;
        } else if (s->hash == h && s->len == len && memcmp(s->name, name, len) == 0) {
            *found = true;
            return i;
        }
    }
}

/* Doubles (or just cleans) the table so that it stays at most 3/4 full. */
static bool grow(struct dc_dir *d)
{
    size_t cap = (d->used + 1) * 2 > d->cap ? d->cap * 2 : d->cap;
    struct dc_name *old = d->slots, *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    size_t old_cap = d->cap;
    d->slots = slots;
    d->cap = cap;
    d->dead = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].name && old[i].name != TOMBSTONE) {
            bool found;
            slots[name_slot(d, old[i].name, old[i].len, old[i].hash, &found)] = old[i];
        }
    free(old);
    return true;
}

bool dc_put(struct dc_dir *d, const char *name, size_t len, uint32_t ino, uint32_t block)
{
    if ((d->used + d->dead + 1) * 4 > d->cap * 3 && !grow(d)) {
        dc_drop(d->dir);        /* out of memory: forget the directory, it is only a copy */
        return false;
    }
    uint32_t h = hash_name(name, len);
    bool found;
    struct dc_name *s = &d->slots[name_slot(d, name, len, h, &found)];
    if (!found) {
        char *copy = malloc(len ? len : 1);
        if (!copy) {
            dc_drop(d->dir);
            return false;
        }
        memcpy(copy, name, len);
        if (s->name == TOMBSTONE)
            d->dead--;
        *s = (struct dc_name){ .name = copy, .len = (uint32_t)len, .hash = h };
        d->used++;
        nnames++;
        d->children += !is_dot(name, len);
    }
    s->ino = ino;
    s->block = block;
    return true;
}

bool dc_find(const struct dc_dir *d, const char *name, size_t len, uint32_t *ino, uint32_t *block)
{
    bool found;
    const struct dc_name *s = &d->slots[name_slot(d, name, len, hash_name(name, len), &found)];
    if (found) {
        *ino = s->ino;
        *block = s->block;
    }
    return found;
}

void dc_del(struct dc_dir *d, const char *name, size_t len)
{
    bool found;
    struct dc_name *s = &d->slots[name_slot(d, name, len, hash_name(name, len), &found)];
    if (!found)
        return;
    free(s->name);
    s->name = TOMBSTONE;
    d->used--;
    d->dead++;
    nnames--;
    d->children -= !is_dot(name, len);
}

size_t dc_children(const struct dc_dir *d)
{
    return d->children;
}
