// SPDX-License-Identifier: MIT
// A statically linked program: the dynamic loader never runs, so LD_PRELOAD cannot load the collector into it.
#include <cstdio>

int main()
{
    std::puts("static");
    return 0;
}
