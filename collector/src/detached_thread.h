// SPDX-License-Identifier: MIT
// The collector's own threads (the writer, the exit-flush helper) never receive the host program's signals.
#pragma once

#include <csignal>
#include <pthread.h>

namespace rooftime::collector {

/// Starts entry(arg) on a detached thread with every signal blocked (a new thread inherits the mask of its creator,
/// which is blocked only while it is created). Returns pthread_create's result: 0 on success.
inline int startDetachedThread(void* (*entry)(void*), void* arg) noexcept
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    const int rc = pthread_create(&tid, &attr, entry, arg);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return rc;
}

} // namespace rooftime::collector
