@testable import Decomposition
import Testing

/// Kendall's τ of members' element orders per site (issue 25 item 4), on hand-made tables.
struct RankAgreementTests {
    @Test func kendallTauCountsConcordantAndDiscordantPairs() {
        #expect(RankAgreement.kendallTau([1, 2, 3], [10, 20, 30]) == 1)
        #expect(RankAgreement.kendallTau([1, 2, 3], [3, 2, 1]) == -1)
        // One swapped neighbour pair among 6: (5 − 1) / 6.
        #expect(abs((RankAgreement.kendallTau([1, 2, 3, 4], [1, 3, 2, 4]) ?? .nan) - 4.0 / 6) < 1e-12)
        // τ-b with a tie on one side: 2 concordant, 0 discordant, normaliser √(3 · 2).
        #expect(abs((RankAgreement.kendallTau([1, 2, 3], [1, 1, 2]) ?? .nan) - 2 / 6.0.squareRoot()) < 1e-12)
        #expect(RankAgreement.kendallTau([1, 1], [1, 2]) == nil)
    }

    @Test func aSiteWhereMembersDisagreeScoresBelowOneWhereTheyAgree() {
        let elements = ["Co", "Cu", "Fe", "Ni"]
        let agreeing: [[SiteElement: Double]] = (0..<3).map { m in
            Dictionary(uniqueKeysWithValues: elements.enumerated().map { (SiteElement(site: "B2", element: $0.element), Double($0.offset) + 0.1 * Double(m)) })
        }
        var tables = agreeing
        // At T1, member 2 reverses the order the others agree on.
        for m in 0..<3 {
            for (k, e) in elements.enumerated() { tables[m][SiteElement(site: "T1", element: e)] = m == 2 ? -Double(k) : Double(k) }
        }
        let d = SiteDecomposer.summarise(kind: .sites, exactness: .exact, method: "test", sites: ["B2", "T1"], elements: elements,
                                         perMember: tables, absolute: nil, counts: nil)
        #expect(d.summaries[0].rankAgreement == 1)
        // Pairs (0,1): 1, (0,2): −1, (1,2): −1.
        #expect(abs((d.summaries[1].rankAgreement ?? .nan) - (-1.0 / 3)) < 1e-12)
        #expect(d.entries.first { $0.site == "T1" && $0.element == "Ni" }?.memberValues == [3, 3, -3])
    }
}
