//! Transports: UDP datagrams and TCP length-prefixed frames, with fault injection (being written).
