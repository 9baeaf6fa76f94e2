import Foundation
import Testing

/// Keeps README.md and Examples/FirstHour/Sources/ReadmeSnippets in step: every ```swift block of
/// the README appears, whitespace aside, in one file of that folder, and the file also has the
/// block's `import` lines (at its top: an import cannot stand inside the function that wraps a
/// block). The folder is compiled by FirstHourTests' build of Examples/FirstHour, so a README
/// snippet that stops compiling fails there, and one that changes without the folder fails here.
///
/// A block that is no library usage (a package manifest's lines) or that this package cannot
/// compile is excluded by a comment on the line before its fence, which must give the reason:
///
///     <!-- readme-snippets: skip (package manifest) -->
///     ```swift
@Suite struct ReadmeSnippetsTests {
    @Test func everySwiftBlockOfTheReadmeIsInReadmeSnippets() throws {
        let root = Self.repositoryRoot
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        let folder = root + "/Examples/FirstHour/Sources/ReadmeSnippets"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }.sorted()
        let files = try names.map { name in
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            return (name: name, imports: Set(Self.imports(in: text)), code: Self.normalized(text))
        }
        let blocks = Self.swiftBlocks(in: readme)
        // The README has 18 blocks, 4 of them skipped; far fewer means the parser lost them.
        try #require(blocks.count >= 10, "found only \(blocks.count) ```swift blocks in README.md: is the parser still right?")

        var checked = 0
        for block in blocks {
            if let skip = block.skip {
                #expect(!skip.isEmpty, "README.md line \(block.line): a readme-snippets skip marker must say why")
                continue
            }
            let body = block.lines.filter { Self.importedModule($0) == nil }.joined(separator: "\n")
            let imports = Set(block.lines.compactMap(Self.importedModule))
            let code = Self.normalized(body)
            let holder = files.first { $0.code.contains(code) }
            #expect(holder != nil, """
                README.md line \(block.line) (under "\(block.heading)"): this ```swift block is not in \
                \(folder)/*.swift. Copy it there, inside a function, or mark it \
                <!-- readme-snippets: skip (why) --> if it is no library usage:
                \(block.lines.joined(separator: "\n"))
                """)
            if let holder {
                #expect(imports.isSubset(of: holder.imports), """
                    README.md line \(block.line) (under "\(block.heading)"): its block is in \(holder.name), \
                    which lacks the block's imports \(imports.subtracting(holder.imports).sorted())
                    """)
                checked += 1
            }
        }
        #expect(checked >= 10, "only \(checked) blocks checked: are most of them marked skip?")
    }

    struct Block {
        var line: Int
        var heading: String
        var skip: String?
        var lines: [String] = []
    }

    /// The ```swift blocks, each with its first line's number, the heading above it and the
    /// reason of a skip marker on the line before its fence.
    static func swiftBlocks(in markdown: String) -> [Block] {
        let marker = "<!-- readme-snippets: skip"
        var blocks: [Block] = []
        var heading = ""
        var open: Block?
        var previous = ""
        for (index, line) in markdown.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = open {
                if trimmed == "```" {
                    blocks.append(block)
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if trimmed == "```swift" {
                var skip: String?
                if previous.hasPrefix(marker) {
                    skip = previous.dropFirst(marker.count).replacingOccurrences(of: "-->", with: "")
                        .trimmingCharacters(in: CharacterSet(charactersIn: " ()"))
                }
                open = Block(line: index + 2, heading: heading, skip: skip)
            } else if trimmed.hasPrefix("#") {
                heading = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            }
            previous = trimmed
        }
        return blocks
    }

    /// The module a line imports, if the line is an import.
    static func importedModule(_ line: String) -> String? {
        let words = line.split(whereSeparator: \.isWhitespace)
        guard words.count >= 2, words[0] == "import" else { return nil }
        return String(words[1])
    }

    static func imports(in source: String) -> [String] {
        source.components(separatedBy: "\n").compactMap(importedModule)
    }

    /// Every run of whitespace as one space, so that indentation and alignment do not count.
    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static var repositoryRoot: String {
        let file = #filePath
        return String(file[..<(file.range(of: "/Tests/FirstHourTests/")?.lowerBound ?? file.endIndex)])
    }
}
