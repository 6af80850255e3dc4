// Whether the calling thread runs in a network namespace apart from the machine's initial one.
//
// Inside such a namespace (made by `ip netns add`, scripts/netns.sh or a container), every address
// but the ones its owner routes out is private to it: a server bound there cannot be reached by,
// nor reach, another machine. fanout serve binds a non-loopback address only then.
//
// Threads: any; the answer is the calling thread's (a thread may have entered a namespace by
// setns(2) on its own, and the sockets it opens live there).
#pragma once

#include "util/status.h"

namespace fanout::testsite {

// OK when the calling thread's network namespace is known to differ from the initial one.
// Otherwise an error whose message says why not, fit to follow "because": it is the initial one,
// or the initial one cannot be told (then it is taken to be ours, and the answer is no).
//
// The initial namespace is that of PID 1 (/proc/1/ns/net); where PID 1 cannot be looked at, that
// of kthreadd (PID 2, when it is a kernel thread, which always lives in the initial namespace).
Status InOwnNetNamespace();

}  // namespace fanout::testsite
