package audit

// Admin actions on the service providers added in the admin console
// (TargetServiceProvider, the provider's name): details hold the provider
// before and after as compact JSON, its metadata left out.
const (
	AdminServiceProviderAdded   AdminAction = "AdminServiceProviderAdded"
	AdminServiceProviderDeleted AdminAction = "AdminServiceProviderDeleted"
)
