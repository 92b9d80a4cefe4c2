/* SPDX-License-Identifier: MIT */
/**
 * @file rooftime.h
 * @brief rooftime marker API: name regions of a program and declare their analytic work.
 *
 * Include this header and link nothing extra. Without the rooftime collector in the process every call
 * costs one predictable branch; under `rooftime record` (which preloads librooftime_collector.so) the calls
 * are resolved at run time, once per translation unit, through dlsym (glibc >= 2.34 has it in libc).
 *
 *   rooftime_begin("triad");               open a region on this thread (regions nest)
 *   rooftime_add_work(2.0 * n, 24.0 * n);  declare FLOPs and bytes of the innermost open region
 *   rooftime_end("triad");                 close it (the name is checked against the open region)
 *   rooftime_set_param("n", n);            label the innermost open region, or the whole run outside regions
 *
 * Names are copied by the collector: any string, also a temporary buffer, may be passed.
 * C and C++; thread-safe; async-signal-safety is not promised.
 */
#ifndef ROOFTIME_ROOFTIME_H
#define ROOFTIME_ROOFTIME_H

#include <stdint.h>
#ifndef ROOFTIME_BUILDING_COLLECTOR
#include <dlfcn.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define ROOFTIME_API_VERSION 1

/** The table the collector exports as `rooftime_get_api_v1()`. Fields are only ever appended. */
typedef struct rooftime_api_v1 {
    uint32_t struct_size;
    void (*begin)(const char* name);
    void (*end)(const char* name);
    void (*add_work)(double flops, double bytes);
    void (*set_param)(const char* key, double value);
} rooftime_api_v1;

#ifdef ROOFTIME_BUILDING_COLLECTOR
/* The collector itself defines the real functions (also usable by programs that link it directly). */
void rooftime_begin(const char* name);
void rooftime_end(const char* name);
void rooftime_add_work(double flops, double bytes);
void rooftime_set_param(const char* key, double value);
const rooftime_api_v1* rooftime_get_api_v1(void);
#else

/* Resolved once per translation unit: the collector's table, or a static table of null entries. */
static inline const rooftime_api_v1* rooftime__resolve_(void)
{
    typedef const rooftime_api_v1* (*getter_t)(void);
    static const rooftime_api_v1* resolved = 0;
    static const rooftime_api_v1 absent = { 0, 0, 0, 0, 0 };
    const rooftime_api_v1* table = __atomic_load_n(&resolved, __ATOMIC_ACQUIRE);
    if (__builtin_expect(table == 0, 0)) {
        /* RTLD_DEFAULT is the null handle on glibc. The union keeps the cast valid in C and C++. */
        union {
            void* object;
            getter_t function;
        } sym;
#ifdef __cplusplus
        sym.object = dlsym(nullptr, "rooftime_get_api_v1");
#else
        sym.object = dlsym((void*)0, "rooftime_get_api_v1");
#endif
        table = sym.object ? sym.function() : 0;
        if (table == 0 || table->struct_size < sizeof(rooftime_api_v1)) table = &absent;
        __atomic_store_n(&resolved, table, __ATOMIC_RELEASE);
    }
    return table;
}

static inline void rooftime_begin(const char* name)
{
    const rooftime_api_v1* t = rooftime__resolve_();
    if (t->begin) t->begin(name);
}
static inline void rooftime_end(const char* name)
{
    const rooftime_api_v1* t = rooftime__resolve_();
    if (t->end) t->end(name);
}
static inline void rooftime_add_work(double flops, double bytes)
{
    const rooftime_api_v1* t = rooftime__resolve_();
    if (t->add_work) t->add_work(flops, bytes);
}
static inline void rooftime_set_param(const char* key, double value)
{
    const rooftime_api_v1* t = rooftime__resolve_();
    if (t->set_param) t->set_param(key, value);
}
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ROOFTIME_ROOFTIME_H */
