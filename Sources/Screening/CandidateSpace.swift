import Basics
import MPI

/// A screening error: an option out of range, runs that cannot be screened together.
public struct ScreenError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every occupation of `sites` by the elements allowed there, numbered by a mixed-radix index:
/// site 0 is the most significant digit, and a digit is a position in that site's allowed list.
/// A rank therefore takes a contiguous block of indices and decodes only its first.
public struct CandidateSpace: Sendable, Equatable, Codable {
    /// A bound on the number of sites held (so no input allocates without one).
    public static let siteLimit = 64
    /// The largest space accepted: indices must fit an Int with room for block arithmetic.
    public static let sizeLimit = 1 << 52
    /// At most this many count windows (the dynamic programme's states grow as sites^windows).
    public static let windowLimit = 3

    /// A count window: occupations with `low...high` sites holding `element`.
    public struct Window: Sendable, Equatable, Codable {
        public let element: String
        public let low: Int
        public let high: Int
        public init(element: String, low: Int, high: Int) { self.element = element; self.low = low; self.high = high }
    }

    public let sites: [String]
    /// The elements the space draws from (each site allows a subset of them).
    public let elements: [String]
    /// allowed[s]: indices into `elements` allowed at site s, ascending.
    public let allowed: [[Int]]
    public let windows: [Window]
    /// The number of occupations before the windows filter them.
    public let size: Int

    /// All of `elements` on every site, then `fixed` (site → element), `allowedBySite` (site →
    /// elements) and the count `windows` applied. Each refusal names the option and what it allows.
    public init(sites: [String], elements: [String], fixed: [String: String] = [:], allowedBySite: [String: [String]] = [:],
                windows: [Window] = []) throws {
        guard !sites.isEmpty, sites.count <= Self.siteLimit else {
            throw ScreenError("the runs have \(sites.count) sites; screening takes 1 to \(Self.siteLimit)")
        }
        guard !elements.isEmpty else { throw ScreenError("the runs share no element to place on the sites") }
        for name in Set(fixed.keys).union(allowedBySite.keys) where !sites.contains(name) {
            throw ScreenError("--fix/--allow: no site '\(name)'; the sites are \(sites.joined(separator: ", "))")
        }
        var allowed: [[Int]] = []
        for site in sites {
            var names = allowedBySite[site] ?? elements
            if let one = fixed[site] {
                guard names.contains(one) else {
                    throw ScreenError("--fix \(site)=\(one): \(one) is not allowed there (allowed: \(names.joined(separator: ", ")))")
                }
                names = [one]
            }
            let indices = try names.map { name -> Int in
                guard let index = elements.firstIndex(of: name) else {
                    throw ScreenError("--fix/--allow \(site)=\(name): the runs saw no \(name); allowed elements: \(elements.joined(separator: ", "))")
                }
                return index
            }
            allowed.append(Array(Set(indices)).sorted())
        }
        guard windows.count <= Self.windowLimit else { throw ScreenError("--count: at most \(Self.windowLimit) windows; \(windows.count) given") }
        for window in windows {
            guard elements.contains(window.element) else {
                throw ScreenError("--count \(window.element): the runs saw no \(window.element); allowed elements: \(elements.joined(separator: ", "))")
            }
            guard 0 <= window.low, window.low <= window.high, window.high <= sites.count else {
                throw ScreenError("--count \(window.element)=\(window.low):\(window.high): needs 0 ≤ low ≤ high ≤ \(sites.count) (the number of sites)")
            }
        }
        var size = 1
        for choices in allowed {
            let (product, overflow) = size.multipliedReportingOverflow(by: choices.count)
            guard !overflow, product <= Self.sizeLimit else { throw ScreenError("the candidate space is larger than \(Self.sizeLimit) occupations; fix or restrict sites") }
            size = product
        }
        self.sites = sites; self.elements = elements; self.allowed = allowed; self.windows = windows; self.size = size
    }

    /// The digits (positions in each site's allowed list) of candidate `index`.
    public func digits(of index: Int) -> [Int] {
        precondition((0..<size).contains(index), "candidate index out of range")
        var rest = index
        var digits = [Int](repeating: 0, count: sites.count)
        for s in stride(from: sites.count - 1, through: 0, by: -1) {
            digits[s] = rest % allowed[s].count
            rest /= allowed[s].count
        }
        return digits
    }

    /// The index of `digits`.
    public func index(of digits: [Int]) -> Int {
        digits.enumerated().reduce(0) { $0 * allowed[$1.offset].count + $1.element }
    }

    /// The element names of an occupation given by digits.
    public func occupation(_ digits: [Int]) -> [String] {
        digits.enumerated().map { elements[allowed[$0.offset][$0.element]] }
    }

    /// The digits of an occupation given as element names, nil when it is not in the space.
    public func digits(of occupation: [String]) -> [Int]? {
        guard occupation.count == sites.count else { return nil }
        var digits: [Int] = []
        for (s, name) in occupation.enumerated() {
            guard let e = elements.firstIndex(of: name), let d = allowed[s].firstIndex(of: e) else { return nil }
            digits.append(d)
        }
        return digits
    }

    /// Window element indices, so a scan tests counts without names.
    var windowElements: [Int] { windows.map { elements.firstIndex(of: $0.element) ?? -1 } }

    /// Whether the occupation `digits` satisfies every count window.
    public func satisfiesWindows(_ digits: [Int]) -> Bool {
        for (w, window) in windows.enumerated() {
            let element = windowElements[w]
            let count = digits.enumerated().filter { allowed[$0.offset][$0.element] == element }.count
            if count < window.low || count > window.high { return false }
        }
        return true
    }

    /// How many occupations meet every count window (`size` without windows): a programme over
    /// the counts of the windows' elements so far, site by site, as the additive optimum's.
    public var meetingWindows: Int {
        guard !windows.isEmpty else { return size }
        let windowElements = windowElements
        var states: [[Int]: Int] = [[Int](repeating: 0, count: windows.count): 1]
        for s in sites.indices {
            var next: [[Int]: Int] = [:]
            for (counts, ways) in states {
                for e in allowed[s] {
                    var key = counts
                    for w in windowElements.indices where windowElements[w] == e { key[w] += 1 }
                    if zip(key, windows).contains(where: { $0 > $1.high }) { continue }
                    next[key, default: 0] += ways
                }
            }
            states = next
        }
        return states.filter { zip($0.key, windows).allSatisfy { $0 >= $1.low } }.values.reduce(0, +)
    }

    /// The block of indices rank `rank` of `ranks` scans: contiguous, sizes differing by at most
    /// one (the one rule of `contiguousBlock`, which `Communicator.shareOut` hands out).
    public func block(rank: Int, of ranks: Int) -> Range<Int> {
        contiguousBlock(rank: rank, of: ranks, count: size)
    }
}

extension CandidateSpace {
    /// Parses `SITE=EL` (`--fix`) into a map, refusing a site named twice.
    public static func parseFixed(_ texts: [String]) throws -> [String: String] {
        var fixed: [String: String] = [:]
        for text in texts {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, fixed[parts[0]] == nil else {
                throw ScreenError("--fix expects SITE=ELEMENT, each site once (e.g. T/B1=Cu); found '\(text)'")
            }
            fixed[parts[0]] = parts[1]
        }
        return fixed
    }

    /// Parses `SITE=EL+EL...` (`--allow`).
    public static func parseAllowed(_ texts: [String]) throws -> [String: [String]] {
        var allowed: [String: [String]] = [:]
        for text in texts {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let names = parts.count == 2 ? parts[1].split(separator: "+").map(String.init) : []
            guard parts.count == 2, !parts[0].isEmpty, !names.isEmpty, allowed[parts[0]] == nil else {
                throw ScreenError("--allow expects SITE=EL+EL..., each site once (e.g. Nsub1=Co+Ni); found '\(text)'")
            }
            allowed[parts[0]] = names
        }
        return allowed
    }

    /// Parses `EL=LOW:HIGH` (`--count`).
    public static func parseWindows(_ texts: [String]) throws -> [Window] {
        try texts.map { text in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let bounds = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) } : []
            guard parts.count == 2, bounds.count == 2, let low = bounds[0], let high = bounds[1] else {
                throw ScreenError("--count expects ELEMENT=LOW:HIGH, site counts (e.g. Mo=0:2); found '\(text)'")
            }
            return Window(element: parts[0], low: low, high: high)
        }
    }
}
