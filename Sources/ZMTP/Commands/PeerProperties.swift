extension Metadata.Name {
    /// The peer's address as this side's transport names it (libzmq's `ZMQ_MSG_PROPERTY_PEER_ADDRESS`).
    public static let peerAddress = "Peer-Address"
}

extension Metadata {
    /// Whether only the receiving side may set `name`: `User-Id` (its authenticator's answer)
    /// and `Peer-Address` (its transport's). A peer that sends either in READY or INITIATE is
    /// not believed (compared without case, as every property name).
    public static func isReserved(_ name: String) -> Bool {
        let folded = fold(name)
        return folded == "user-id" || folded == "peer-address"
    }
}

extension PeerInfo {
    /// The properties messages from this peer carry (libzmq's message metadata): first those
    /// the peer cannot speak for, `Peer-Address` (`peerAddress`, as the driver's transport names
    /// it; empty: none), `User-Id` and the authenticator's metadata, in libzmq's order; then the
    /// peer's own READY/INITIATE properties, minus any under a reserved name
    /// (``Metadata/isReserved(_:)``), so that a client cannot name its own `User-Id`. A name
    /// already present is not added again: the first one wins.
    public func messageProperties(peerAddress: String) -> Metadata {
        var properties = Metadata()
        if !peerAddress.isEmpty { properties.append(name: Metadata.Name.peerAddress, value: Array(peerAddress.utf8)) }
        if let authentication {
            // A user id only where an authenticator gave one (with none there is none).
            if !authentication.userID.isEmpty {
                properties.append(name: Metadata.Name.userID, value: Array(authentication.userID.utf8))
            }
            for property in authentication.metadata.properties where properties[property.name] == nil {
                properties.append(name: property.name, value: property.value)
            }
        }
        for property in metadata.properties where properties[property.name] == nil && !Metadata.isReserved(property.name) {
            properties.append(name: property.name, value: property.value)
        }
        return properties
    }
}
