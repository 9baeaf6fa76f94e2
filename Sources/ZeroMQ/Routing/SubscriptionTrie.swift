/// A set of counted topic prefixes with prefix matching (libzmq's `trie_t` / `radix_tree_t`):
/// SUB's filter, and each subscriber's subscriptions at a PUB. Subscribing twice needs two
/// unsubscribes, as in libzmq.
struct SubscriptionTrie {
    private final class Node {
        var count = 0
        /// Children by next byte, kept sorted for a binary search.
        var keys: [UInt8] = []
        var children: [Node] = []

        func child(_ byte: UInt8) -> Node? {
            var low = 0, high = keys.count
            while low < high {
                let mid = (low + high) / 2
                if keys[mid] < byte { low = mid + 1 } else { high = mid }
            }
            return low < keys.count && keys[low] == byte ? children[low] : nil
        }

        func childOrInsert(_ byte: UInt8) -> Node {
            var low = 0, high = keys.count
            while low < high {
                let mid = (low + high) / 2
                if keys[mid] < byte { low = mid + 1 } else { high = mid }
            }
            if low < keys.count && keys[low] == byte { return children[low] }
            let node = Node()
            keys.insert(byte, at: low)
            children.insert(node, at: low)
            return node
        }

        func remove(_ byte: UInt8) {
            guard let index = keys.firstIndex(of: byte) else { return }
            keys.remove(at: index)
            children.remove(at: index)
        }

        var isUnused: Bool { count == 0 && keys.isEmpty }
    }

    private var root = Node()
    /// Distinct prefixes held (ZMQ_TOPICS_COUNT).
    private(set) var topicCount = 0

    var isEmpty: Bool { root.isUnused }

    /// Adds one reference to `prefix`; true when the prefix is new.
    @discardableResult
    mutating func add(_ prefix: some Collection<UInt8>) -> Bool {
        if !isKnownUniquelyReferenced(&root) { root = copy(root) }
        var node = root
        for byte in prefix { node = node.childOrInsert(byte) }
        node.count += 1
        if node.count == 1 { topicCount += 1 }
        return node.count == 1
    }

    /// Removes one reference to `prefix`; true when the last one went. False (and nothing
    /// changes) when `prefix` was not held.
    @discardableResult
    mutating func remove(_ prefix: some Collection<UInt8>) -> Bool {
        if !isKnownUniquelyReferenced(&root) { root = copy(root) }
        var path: [(Node, UInt8)] = []
        var node = root
        for byte in prefix {
            guard let next = node.child(byte) else { return false }
            path.append((node, byte))
            node = next
        }
        guard node.count > 0 else { return false }
        node.count -= 1
        guard node.count == 0 else { return false }
        topicCount -= 1
        // Prune nodes nobody uses any more.
        var child = node
        while let (parent, byte) = path.popLast(), child.isUnused {
            parent.remove(byte)
            child = parent
        }
        return true
    }

    /// Whether some held prefix is a prefix of `data`.
    func matches(_ data: UnsafeRawBufferPointer) -> Bool {
        var node = root
        if node.count > 0 { return true }
        for byte in data {
            guard let next = node.child(byte) else { return false }
            node = next
            if node.count > 0 { return true }
        }
        return false
    }

    /// Every held prefix, once each (for replaying subscriptions to a new peer).
    func topics() -> [[UInt8]] {
        countedTopics().map(\.topic)
    }

    /// Every held prefix with its count.
    func countedTopics() -> [(topic: [UInt8], count: Int)] {
        var result: [(topic: [UInt8], count: Int)] = []
        var prefix: [UInt8] = []
        func walk(_ node: Node) {
            if node.count > 0 { result.append((prefix, node.count)) }
            for (byte, child) in zip(node.keys, node.children) {
                prefix.append(byte)
                walk(child)
                prefix.removeLast()
            }
        }
        walk(root)
        return result
    }

    private func copy(_ node: Node) -> Node {
        let new = Node()
        new.count = node.count
        new.keys = node.keys
        new.children = node.children.map(copy)
        return new
    }
}
