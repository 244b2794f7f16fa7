/// How alike members order the elements at a site: Kendall's τ-b between two members' c(s, e)
/// over the elements both have there, averaged over every pair of members. 1: every member
/// ranks the elements the same; 0: no agreement beyond chance. The seed study judged a
/// decomposition stable by this (Docs/Method.md, "Per-member tables").
public enum RankAgreement {
    /// τ-b of two equally long lists (ties on either side count as neither concordant nor
    /// discordant, and shrink the normaliser); nil with fewer than 2 values or a constant list.
    public static func kendallTau(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 2 else { return nil }
        var (concordant, discordant, tiedA, tiedB) = (0, 0, 0, 0)
        for i in 0..<a.count {
            for j in (i + 1)..<a.count {
                let (da, db) = (a[i] - a[j], b[i] - b[j])
                if da == 0 { tiedA += 1 }
                if db == 0 { tiedB += 1 }
                if da != 0 && db != 0 { if (da > 0) == (db > 0) { concordant += 1 } else { discordant += 1 } }
            }
        }
        let pairs = a.count * (a.count - 1) / 2
        let normaliser = (Double(pairs - tiedA) * Double(pairs - tiedB)).squareRoot()
        guard normaliser > 0 else { return nil }
        return Double(concordant - discordant) / normaliser
    }

    /// The mean τ over every pair of members of their values at `elements` (each member's table
    /// by element); elements a pair does not both have are left out of that pair. Nil with
    /// fewer than 2 members or no pair with a defined τ.
    public static func meanTau(_ tables: [[String: Double]], elements: [String]) -> Double? {
        var taus: [Double] = []
        for i in tables.indices {
            for j in tables.indices where j > i {
                let shared = elements.filter { tables[i][$0] != nil && tables[j][$0] != nil }
                if let tau = kendallTau(shared.map { tables[i][$0] ?? 0 }, shared.map { tables[j][$0] ?? 0 }) { taus.append(tau) }
            }
        }
        return taus.isEmpty ? nil : taus.reduce(0, +) / Double(taus.count)
    }
}
