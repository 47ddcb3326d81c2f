import type * as zmq from 'zeromq';

/**
 * Calls `onBack` each time the socket has a working connection again (ZMTP handshake done)
 * after losing one: whatever was sent into the lost connection went down with it, and the
 * peer now there (a promoted standby, after a failover) is ready to take it again.
 */
export function onReconnect(socket: zmq.Socket, onBack: () => void): void {
  let lost = false;
  socket.events.on('disconnect', () => {
    lost = true;
  });
  socket.events.on('handshake', () => {
    if (!lost) return;
    lost = false;
    onBack();
  });
}
