import Basics

/// Where structures come from and how to read them: one place for every command.
public struct StructureSource: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case auto, extxyz, sites
    }

    public var path: String
    public var format: Format
    public var siteOptions: SiteTable.Options
    public var extxyzOptions: ExtXYZ.Options
    public var template: SiteTemplate

    public init(path: String, format: Format = .auto, siteOptions: SiteTable.Options = .init(),
                extxyzOptions: ExtXYZ.Options = .init(), template: SiteTemplate = .fcc111Top()) {
        self.path = path
        self.format = format
        self.siteOptions = siteOptions
        self.extxyzOptions = extxyzOptions
        self.template = template
    }

    /// The format actually used: `.sites` for .csv files, extxyz otherwise, unless told.
    public var resolvedFormat: Format {
        if format != .auto { return format }
        return path.lowercased().hasSuffix(".csv") ? .sites : .extxyz
    }

    /// What a load produced: the structures, and the site table when the input was one.
    public struct Loaded: Sendable {
        public let structures: [Structure]
        public let table: SiteTable?
    }

    /// Reads the input; site tables go through the site template.
    public func load() throws -> Loaded {
        switch resolvedFormat {
        case .sites:
            let table = try SiteTable.read(path: path, options: siteOptions)
            guard !table.rows.isEmpty else {
                throw InputError(file: path, "no rows left to use" + (siteOptions.groupValue.map { " (none with \(siteOptions.groupColumn ?? "group")=\($0))" } ?? ""))
            }
            return Loaded(structures: try template.structures(from: table), table: table)
        default:
            // Site-table choices mean nothing to extxyz; ignoring them would train on rows the
            // user meant to leave out.
            if let value = siteOptions.groupValue {
                throw InputError(file: "--group", "keeps site-table rows, but \(path) is read as extxyz (--group \(siteOptions.groupColumn ?? "")=\(value) would be ignored); give a .csv site table or --format sites")
            }
            if siteOptions.siteColumns != nil {
                throw InputError(file: "--sites", "names site-table columns, but \(path) is read as extxyz")
            }
            return Loaded(structures: try ExtXYZ.read(path: path, options: extxyzOptions), table: nil)
        }
    }
}
